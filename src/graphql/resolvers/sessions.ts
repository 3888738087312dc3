/**
 * Sessions (2.2): Identity.sessions, revokeSession and forceSignOutPerson. Another identity's
 * sessions are shown only to callers holding person:viewSessions against its roles; otherwise the
 * list is empty, so a batch of identities never fails on one forbidden target.
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import { identitiesByIds } from '../../domain/identity/queries.js'
import { activeSessions, forceSignOutPerson, revokeSession, type SessionRow } from '../../domain/sessions/manage.js'
import type { GraphQLContext } from '../context.js'
import { UserInputError } from '../errors.js'
import { allow } from './auth.js'
import type { IdentityRef } from './identity.js'

/** The reason goes into a mail and the audit log: a sentence, not a document. */
const REASON_MAX = 1000

const toSessionInfo = (row: SessionRow, context: GraphQLContext) => ({ ...row, isCurrent: row.id === context.auth.apiKeyId })

/** The identities of the batch whose sessions the caller may see. */
async function visibleIdentities(identities: readonly IdentityRef[], context: GraphQLContext): Promise<Set<string>> {
  const visible = new Set<string>()
  const others: IdentityRef[] = []
  for (const identity of identities) {
    if (identity.id === context.auth.identityId) visible.add(identity.id)
    else others.push(identity)
  }
  if (others.length === 0 || !rolesAllow(context.auth.roles, 'person:viewSessions')) return visible
  const missingRoles = others.filter((identity) => !identity.roles).map((identity) => identity.id)
  const loaded = await identitiesByIds(context.ctx.db, missingRoles)
  for (const identity of others) {
    const roles = identity.roles ?? loaded.get(identity.id)?.roles ?? []
    if (rolesAllow(context.auth.roles, 'person:viewSessions', { roles })) visible.add(identity.id)
  }
  return visible
}

export const sessionLoaders = {
  Identity: {
    async sessions(queries: { obj: IdentityRef }[], context: GraphQLContext) {
      const identities = queries.map((query) => query.obj)
      const visible = await visibleIdentities(identities, context)
      const sessions = await activeSessions(context.ctx.db, [...visible], context.ctx.clock())
      return identities.map((identity) => (sessions.get(identity.id) ?? []).map((row) => toSessionInfo(row, context)))
    },
  },
}

export const sessionResolvers = {
  Mutation: {
    async revokeSession(_: unknown, args: { sessionId: string }, context: GraphQLContext) {
      const outcome = await revokeSession(context.ctx, context.actor, context.auth, args.sessionId)
      return outcome.ok ? { ok: true, error: null } : { ok: false, error: { code: outcome.code, developerMessage: outcome.message } }
    },

    async forceSignOutPerson(_: unknown, args: { personId: string, reason?: string | null }, context: GraphQLContext) {
      allow(context, 'person:forceSignOut', 'You are not allowed to force sign out a person')
      if (args.reason && args.reason.length > REASON_MAX) throw new UserInputError(`Invalid reason: at most ${REASON_MAX} characters.`)
      const outcome = await forceSignOutPerson(context.ctx, context.actor, args.personId, args.reason ?? null, (targetRoles) =>
        allow(context, 'person:forceSignOut', 'You are not allowed to force sign out this person', { roles: targetRoles }))
      return outcome.ok ? { ok: true, error: null } : { ok: false, error: { code: outcome.code, developerMessage: outcome.message } }
    },
  },
}
