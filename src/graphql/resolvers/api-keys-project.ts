/** createApiKey: a permanent key with memberships in one project (Contember §7.8). */
import { recordAudit } from '../../domain/audit/record.js'
import { createProjectApiKey } from '../../domain/projects/api-keys.js'
import { projectRoles } from '../../domain/projects/acl-schema.js'
import type { Membership } from '../../domain/memberships/types.js'
import { validateMemberships } from '../../domain/memberships/validation.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess } from '../errors.js'
import { assertTokenHash, errorPayload, okPayload, projectAndScope, projectNotFound } from './projects.js'

interface CreateApiKeyArgs {
  projectSlug: string
  memberships: Membership[]
  description: string
  tokenHash?: string | null
}

export const projectApiKeyResolvers = {
  Mutation: {
    async createApiKey(_: unknown, args: CreateApiKeyArgs, context: GraphQLContext) {
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('apiKey:create'), 'You are not allowed to create an API key for this project')
      if (!project) return projectNotFound(args.projectSlug)
      const tokenHash = assertTokenHash(args.tokenHash, 'tokenHash')
      const issues = validateMemberships(projectRoles(project.config), args.memberships)
      if (issues.length > 0) return errorPayload('INVALID_MEMBERSHIP', '', { issues })
      const { ctx, actor } = context
      const created = await ctx.db.transaction(async (tx) => {
        const key = await createProjectApiKey(tx, { projectId: project.id, description: args.description, memberships: args.memberships, tokenHash, now: ctx.clock() })
        await recordAudit(tx, actor, {
          type: 'api_key_create', projectId: project.id,
          eventData: { apiKeyId: key.apiKeyId, identityId: key.identityId, description: key.description, projectSlug: project.slug, memberships: args.memberships },
        })
        return key
      })
      return okPayload({
        apiKey: { id: created.apiKeyId, token: created.token, identity: { id: created.identityId, roles: [], description: created.description } },
      })
    },
  },
}
