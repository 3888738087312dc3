/**
 * Projects: the `projects` and `projectBySlug` queries, createProject / updateProject /
 * setProjectSecret, and the Project and RoleDefinition types. Also the small helpers the other
 * project-plane modules (members, invites, API keys, mail templates) share: the caller, its
 * project scope, and Contember's payload shapes.
 */
import { loadProjectScope, type Caller, type ProjectScope } from '../../domain/acl/project-scope.js'
import { rolesAllow, TenantRole } from '../../domain/acl/permissions.js'
import { SHA256_HEX } from '../../domain/crypto/tokens.js'
import { invalidMembershipErrors, type MembershipValidationIssue } from '../../domain/memberships/validation.js'
import { projectRoles } from '../../domain/projects/acl-schema.js'
import { createProject } from '../../domain/projects/create.js'
import { allProjects, projectBySlug, projectsWithMember, type ProjectRow } from '../../domain/projects/queries.js'
import { setProjectSecret, updateProject } from '../../domain/projects/update.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess, UserInputError } from '../errors.js'

export const callerOf = (context: GraphQLContext): Caller => ({ identityId: context.auth.identityId, roles: context.auth.roles })

/** The project (null when missing or archived) and the caller's scope in it. */
export async function projectAndScope(context: GraphQLContext, slug: string): Promise<{ project: ProjectRow | null, scope: ProjectScope }> {
  const project = await projectBySlug(context.ctx.db, slug)
  return { project, scope: await loadProjectScope(context.ctx.db, callerOf(context), project) }
}

interface ErrorEntry { code: string, developerMessage: string, endUserMessage: string | null, membershipValidation: MembershipValidationIssue[] | null }

export function errorPayload(code: string, developerMessage: string, details?: Record<string, unknown>) {
  const errors: ErrorEntry[] = code === 'INVALID_MEMBERSHIP' && details?.issues
    ? invalidMembershipErrors(details.issues as MembershipValidationIssue[])
    : [{ code, developerMessage, endUserMessage: null, membershipValidation: null }]
  return { ok: false, error: errors[0], errors, result: null }
}

export const okPayload = (result: unknown = null) => ({ ok: true, error: null, errors: [], result })

export const projectNotFound = (slug: string) =>
  errorPayload('PROJECT_NOT_FOUND', `Project ${slug} was not found or you are not allowed to access it.`)

export function assertTokenHash(value: string | null | undefined, argument: string): string | undefined {
  if (value === null || value === undefined) return undefined
  if (!SHA256_HEX.test(value)) throw new UserInputError(`Invalid format of ${argument}. Must be hex-encoded sha256.`)
  return value
}

function assertJsonObject(value: unknown, argument: string): Record<string, unknown> | null | undefined {
  if (value === undefined || value === null) return value
  if (typeof value !== 'object' || Array.isArray(value)) throw new UserInputError(`${argument} must be a JSON object.`)
  return value as Record<string, unknown>
}

const SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/i

interface CreateProjectArgs {
  projectSlug: string
  name?: string | null
  config?: unknown
  secrets?: { key: string, value: string }[] | null
  options?: { deployTokenHash?: string | null, noDeployToken?: boolean | null } | null
  deployTokenHash?: string | null
}

/** RoleDefinition.variables entries, typed for RoleVariableDefinition's resolution by __typename. */
function roleDefinitions(project: ProjectRow) {
  return [...projectRoles(project.config).values()].map((role) => ({
    name: role.name,
    variables: [...role.variables].map(([name, definition]) => {
      if (definition.type === 'predefined') return { __typename: 'RolePredefinedVariableDefinition', name, value: definition.value }
      if (definition.type === 'condition') return { __typename: 'RoleConditionVariableDefinition', name }
      return { __typename: 'RoleEntityVariableDefinition', name, entityName: definition.entityName }
    }),
  }))
}

export const projectResolvers = {
  Query: {
    async projects(_: unknown, __: unknown, context: GraphQLContext): Promise<ProjectRow[]> {
      const { db } = context.ctx
      return rolesAllow(context.auth.roles, 'project:view') ? allProjects(db) : projectsWithMember(db, context.auth.identityId)
    },
    async projectBySlug(_: unknown, args: { slug: string }, context: GraphQLContext): Promise<ProjectRow | null> {
      const { project, scope } = await projectAndScope(context, args.slug)
      return project && scope.allows('project:view') ? project : null
    },
  },
  Mutation: {
    async createProject(_: unknown, args: CreateProjectArgs, context: GraphQLContext) {
      const { ctx, auth } = context
      // Contember answers ALREADY_EXISTS before checking access; the insert below decides races.
      if (await projectBySlug(ctx.db, args.projectSlug)) return errorPayload('ALREADY_EXISTS', `Project ${args.projectSlug} already exists`)
      requireAccess(rolesAllow(auth.roles, 'project:create'), 'You are not allowed to create a project')
      if (!SLUG.test(args.projectSlug)) {
        throw new UserInputError('Invalid projectSlug: use 1 to 100 letters, digits, "_" or "-", starting with a letter or digit.')
      }
      const deployTokenHash = assertTokenHash(args.options?.deployTokenHash ?? args.deployTokenHash, 'deployTokenHash')
      const outcome = await createProject(ctx, context.actor, {
        slug: args.projectSlug,
        name: args.name,
        config: assertJsonObject(args.config, 'config'),
        secrets: args.secrets,
        noDeployToken: Boolean(args.options?.noDeployToken),
        deployTokenHash,
        creator: { identityId: auth.identityId, isSuperAdmin: auth.roles.includes(TenantRole.SUPER_ADMIN) },
      })
      if (!outcome.ok) return errorPayload(outcome.code, outcome.message)
      const key = outcome.value.deployerApiKey
      return okPayload({
        deployerApiKey: key && { id: key.apiKeyId, token: key.token, identity: { id: key.identityId, roles: [], description: key.description } },
      })
    },
    async updateProject(_: unknown, args: { projectSlug: string, name?: string | null, config?: unknown, mergeConfig?: boolean | null }, context: GraphQLContext) {
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('project:update'), 'You are not allowed to update a project')
      if (!project) return projectNotFound(args.projectSlug)
      await updateProject(context.ctx, context.actor, project, { name: args.name, config: assertJsonObject(args.config, 'config'), mergeConfig: args.mergeConfig })
      return okPayload()
    },
    async setProjectSecret(_: unknown, args: { projectSlug: string, key: string, value: string }, context: GraphQLContext) {
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('project:setSecret'), 'You are not allowed to set project secrets')
      if (!project) return projectNotFound(args.projectSlug)
      await setProjectSecret(context.ctx, context.actor, project, args.key, args.value)
      return okPayload()
    },
  },
  Project: {
    roles: (project: ProjectRow) => roleDefinitions(project),
  },
  RoleVariableDefinition: {
    resolveType: (definition: { __typename: string }) => definition.__typename,
  },
}
