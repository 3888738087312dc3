/** invite and unmanagedInvite (Contember §7.7), with access checked per requested membership in project scope. */
import { invitePerson, type InviteMethod } from '../../domain/memberships/invite.js'
import type { Membership } from '../../domain/memberships/types.js'
import type { ProjectRow } from '../../domain/projects/queries.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess, UserInputError } from '../errors.js'
import { assertTokenHash, errorPayload, okPayload, projectAndScope, projectNotFound } from './projects.js'

interface InviteArgs {
  email: string
  name?: string | null
  projectSlug: string
  memberships: Membership[]
}

async function invite(context: GraphQLContext, project: ProjectRow | null, args: InviteArgs, method: InviteMethod) {
  if (!project) return projectNotFound(args.projectSlug)
  const outcome = await invitePerson(context.ctx, context.actor, project, { email: args.email, name: args.name, memberships: args.memberships, method })
  if (!outcome.ok) return errorPayload(outcome.code, outcome.message, outcome.details)
  return okPayload({ person: outcome.value.person, isNew: outcome.value.isNew })
}

export const inviteResolvers = {
  Mutation: {
    async invite(_: unknown, args: InviteArgs & { options?: { method?: 'CREATE_PASSWORD' | 'RESET_PASSWORD' | null, mailVariant?: string | null } | null }, context: GraphQLContext) {
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('person:invite', { memberships: args.memberships }), 'You are not allowed to invite a person')
      const kind = args.options?.method ?? 'CREATE_PASSWORD'
      return invite(context, project, args, { kind, mailVariant: args.options?.mailVariant || '' })
    },
    async unmanagedInvite(
      _: unknown,
      args: InviteArgs & { options?: { password?: string | null, resetTokenHash?: string | null } | null, password?: string | null },
      context: GraphQLContext,
    ) {
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('person:invite_unmanaged', { memberships: args.memberships }), 'You are not allowed to unmanaged person invite')
      const resetTokenHash = assertTokenHash(args.options?.resetTokenHash, 'resetTokenHash')
      const password = args.password ?? args.options?.password ?? undefined
      if (password !== undefined && Buffer.byteLength(password) > context.ctx.config.passwords.maxBytes) {
        throw new UserInputError(`Password is too long. Maximum length is ${context.ctx.config.passwords.maxBytes} bytes`)
      }
      return invite(context, project, args, { kind: 'UNMANAGED', password, resetTokenHash })
    },
  },
}
