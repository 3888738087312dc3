/**
 * 2.2 e-mail ownership and personal IdP connections: requestEmailVerification, verifyEmail and
 * confirmEmailChange (`person:verifyEmail`: the login token or a person; the mailed token is the
 * proof), disconnectMyIdentityProvider, and the Person fields emailVerified and identityProviders
 * (batched; another person's connections need `person:viewIdp` on their roles, else []).
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import { confirmEmailChange } from '../../domain/email-verification/change.js'
import { emailVerifiedByPersonIds, requestEmailVerification, verifyEmail } from '../../domain/email-verification/verification.js'
import { connectionsByPersonIds, disconnectMyIdentityProvider, rolesByPersonIds } from '../../domain/idp/connections.js'
import type { PersonRow } from '../../domain/identity/queries.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess } from '../errors.js'
import { payload } from './business-result.js'

const allowVerify = (context: GraphQLContext, what: string) =>
  requireAccess(rolesAllow(context.auth.roles, 'person:verifyEmail'), `You are not allowed to ${what}`)

export const emailVerificationResolvers = {
  Mutation: {
    async requestEmailVerification(
      _: unknown, args: { email: string, options?: { mailProject?: string | null, mailVariant?: string | null } | null, captchaToken?: string | null }, context: GraphQLContext,
    ) {
      allowVerify(context, 'request e-mail verification')
      return payload(await requestEmailVerification(context.ctx, context.actor, args.email, args.options ?? {}, args.captchaToken))
    },
    async verifyEmail(_: unknown, args: { token: string }, context: GraphQLContext) {
      allowVerify(context, 'verify an e-mail address')
      return payload(await verifyEmail(context.ctx, context.actor, args.token))
    },
    async confirmEmailChange(_: unknown, args: { token: string }, context: GraphQLContext) {
      allowVerify(context, 'confirm an e-mail change')
      return payload(await confirmEmailChange(context.ctx, context.actor, args.token))
    },
    async disconnectMyIdentityProvider(_: unknown, args: { id: string }, context: GraphQLContext) {
      // As the passwordless toggle: a caller without a person is told so before any access check.
      if (!context.auth.personId) return payload({ ok: false, code: 'NOT_A_PERSON', message: 'Only a person has identity provider connections' })
      requireAccess(rolesAllow(context.auth.roles, 'person:disconnectIdp'), 'You are not allowed to disconnect an identity provider')
      return payload(await disconnectMyIdentityProvider(context.ctx, context.actor, context.auth.personId, args.id))
    },
  },
}

export const emailVerificationLoaders = {
  Person: {
    async emailVerified(queries: { obj: PersonRow }[], context: GraphQLContext) {
      const verified = await emailVerifiedByPersonIds(context.ctx.db, queries.map((q) => q.obj.id))
      return queries.map((q) => verified.get(q.obj.id) ?? false)
    },
    async identityProviders(queries: { obj: PersonRow }[], context: GraphQLContext) {
      const others = queries.map((q) => q.obj.id).filter((id) => id !== context.auth.personId)
      const roles = others.length > 0 ? await rolesByPersonIds(context.ctx.db, others) : new Map<string, string[]>()
      const visible = queries.map((q) => q.obj.id).filter((id) =>
        id === context.auth.personId || rolesAllow(context.auth.roles, 'person:viewIdp', { roles: roles.get(id) ?? [] }))
      const connections = await connectionsByPersonIds(context.ctx.db, visible)
      return queries.map((q) => connections.get(q.obj.id) ?? [])
    },
  },
}
