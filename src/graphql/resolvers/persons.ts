/**
 * personById, profile and password changes, and disablePerson. Target-person checks pass the
 * target's global roles (a project_admin may not act on a super_admin or project_creator).
 */
import { findPersonById, toPersonRow } from '../../domain/identity/persons.js'
import { changeMyPassword, changePassword } from '../../domain/identity/password-change.js'
import { changeMyProfile, changeProfile, type ProfileInput } from '../../domain/identity/profile.js'
import { disablePerson } from '../../domain/identity/disable-person.js'
import { rolesAllow } from '../../domain/acl/permissions.js'
import type { GraphQLContext } from '../context.js'
import { allow } from './auth.js'
import { payload } from './business-result.js'

/** GraphQL leaves absent arguments out and passes explicit nulls; the domain keeps that difference. */
function profileInput(args: { email?: string | null, name?: string | null }): ProfileInput {
  return { ...('email' in args ? { email: args.email } : {}), ...('name' in args ? { name: args.name } : {}) }
}

export const personResolvers = {
  Query: {
    /** Null when missing, malformed or not allowed (Contember: no error). */
    async personById(_: unknown, args: { id: string }, context: GraphQLContext) {
      if (!rolesAllow(context.auth.roles, 'person:view')) return null
      const found = await findPersonById(context.ctx.db, args.id)
      return found ? toPersonRow(found) : null
    },
  },
  Mutation: {
    async changeProfile(_: unknown, args: { personId: string, email?: string | null, name?: string | null }, context: GraphQLContext) {
      const outcome = await changeProfile(context.ctx, context.actor, args.personId, profileInput(args), (targetRoles) =>
        allow(context, 'person:changeProfile', 'You are not allowed to change a profile', { roles: targetRoles }))
      return payload(outcome)
    },

    async changeMyProfile(_: unknown, args: { email?: string | null, name?: string | null }, context: GraphQLContext) {
      const outcome = await changeMyProfile(context.ctx, context.actor, context.auth.identityId, profileInput(args), () =>
        allow(context, 'person:changeMyProfile', 'You are not allowed to change profile'))
      return payload(outcome)
    },

    async changePassword(_: unknown, args: { personId: string, password: string }, context: GraphQLContext) {
      const outcome = await changePassword(context.ctx, context.actor, args.personId, args.password, (targetRoles) =>
        allow(context, 'person:changePassword', 'You are not allowed to change password', { roles: targetRoles }))
      return payload(outcome)
    },

    async changeMyPassword(_: unknown, args: { currentPassword: string, newPassword: string }, context: GraphQLContext) {
      const caller = { identityId: context.auth.identityId, apiKeyId: context.auth.apiKeyId }
      const outcome = await changeMyPassword(context.ctx, context.actor, caller, args.currentPassword, args.newPassword, () =>
        allow(context, 'person:changeMyPassword', 'You are not allowed to change password'))
      return payload(outcome)
    },

    async disablePerson(_: unknown, args: { personId: string }, context: GraphQLContext) {
      const outcome = await disablePerson(context.ctx, context.actor, args.personId, (targetRoles) =>
        allow(context, 'person:disable', 'You are not allowed to disable person account', { roles: targetRoles }))
      return payload(outcome)
    },
  },
}
