/**
 * Sessions as 2.2 shows and ends them: the active session keys of identities (Identity.sessions),
 * revokeSession (a person ends one of its own sessions) and forceSignOutPerson (an admin ends
 * every key of a person and tells them by mail).
 */
import { and, asc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { apiKey } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail } from '../errors.js'
import { findPersonById, type AuthorizeTarget, type Failure } from '../identity/persons.js'
import { UUID } from '../identity/queries.js'
import { sendTemplatedMail } from '../mail/index.js'
import { TRACKING_INTERVAL_MS } from '../tokens/authenticate.js'
import { disableIdentityKeys } from './api-keys.js'

export interface SessionRow {
  id: string
  identityId: string
  createdAt: Date
  expiresAt: Date | null
  lastUsedAt: Date | null
  lastIp: string | null
  lastUserAgent: string | null
  createdIp: string | null
  createdUserAgent: string | null
  trustForwardedClientInfo: boolean
}

/** Active (not disabled, not expired, not idle past a policy's timeout) session keys of the identities, oldest first, by identity. */
export async function activeSessions(db: DbOrTx, identityIds: readonly string[], now: Date): Promise<Map<string, SessionRow[]>> {
  const result = new Map<string, SessionRow[]>()
  if (identityIds.length === 0) return result
  const rows = await db.select({
    id: apiKey.id, identityId: apiKey.identityId, createdAt: apiKey.createdAt, expiresAt: apiKey.expiresAt,
    lastUsedAt: apiKey.lastUsedAt, lastIp: apiKey.lastIp, lastUserAgent: apiKey.lastUserAgent,
    createdIp: apiKey.createdIp, createdUserAgent: apiKey.createdUserAgent, trustForwardedClientInfo: apiKey.trustForwardedInfo,
  }).from(apiKey)
    .where(and(
      inArray(apiKey.identityId, [...new Set(identityIds)]), eq(apiKey.type, 'session'), isNull(apiKey.disabledAt),
      or(isNull(apiKey.expiresAt), gt(apiKey.expiresAt, now)),
      // Idle past its policy's timeout: authentication refuses it (and marks it expired on that
      // attempt), so it is not listed as active meanwhile. Same slack as the authentication check.
      or(isNull(apiKey.idleTimeoutSeconds), sql`coalesce(${apiKey.lastUsedAt}, ${apiKey.createdAt})
        + make_interval(secs => ${apiKey.idleTimeoutSeconds} + least(${TRACKING_INTERVAL_MS / 1000}, ${apiKey.idleTimeoutSeconds} / 4.0))
        > ${now.toISOString()}::timestamptz`),
    ))
    .orderBy(asc(apiKey.createdAt), asc(apiKey.id))
  for (const row of rows) {
    const list = result.get(row.identityId)
    if (list) list.push(row)
    else result.set(row.identityId, [row])
  }
  return result
}

export interface SessionCaller {
  identityId: string
  personId: string | null
}

export type RevokeSessionErrorCode = 'SESSION_NOT_FOUND' | 'NOT_A_PERSON'

/**
 * Ends one of the caller's own sessions (the current one included). Another identity's key, a
 * permanent key, an ended session or a malformed id are all SESSION_NOT_FOUND, so the answer never
 * tells whether someone else's key exists; admins end other people's sessions with
 * forceSignOutPerson.
 */
export async function revokeSession(
  ctx: DomainContext, actor: Actor, caller: SessionCaller, sessionId: string,
): Promise<{ ok: true } | Failure<RevokeSessionErrorCode>> {
  if (!caller.personId) return fail('NOT_A_PERSON', 'Only a person can revoke its sessions')
  const notFound = fail('SESSION_NOT_FOUND', `Session ${sessionId} was not found`)
  if (!UUID.test(sessionId)) return notFound
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock()
    const ended = await tx.update(apiKey).set({ disabledAt: now })
      .where(and(
        eq(apiKey.id, sessionId), eq(apiKey.identityId, caller.identityId), eq(apiKey.type, 'session'), isNull(apiKey.disabledAt),
        or(isNull(apiKey.expiresAt), gt(apiKey.expiresAt, now)),
      ))
      .returning({ id: apiKey.id })
    if (ended.length === 0) return notFound
    await recordAudit(tx, actor, { type: 'session_revoked_by_user', personId: caller.personId, metadata: { sessionId } })
    return { ok: true as const }
  })
}

export type ForceSignOutErrorCode = 'PERSON_NOT_FOUND'

/**
 * Disables every key of the person's identity (sessions and permanent keys, as disablePerson
 * does) and sends the FORCED_SIGN_OUT mail, all in one transaction. `authorize` checks the
 * caller against the target's global roles once the person is known.
 */
export async function forceSignOutPerson(
  ctx: DomainContext, actor: Actor, personId: string, reason: string | null, authorize: AuthorizeTarget,
): Promise<{ ok: true } | Failure<ForceSignOutErrorCode>> {
  return ctx.db.transaction(async (tx) => {
    const target = await findPersonById(tx, personId, true)
    if (!target) return fail('PERSON_NOT_FOUND', `Person ${personId} was not found`)
    authorize(target.roles)
    const disabledKeys = await disableIdentityKeys(tx, target.identityId, ctx.clock())
    if (target.email) {
      await sendTemplatedMail(ctx, tx, { type: 'FORCED_SIGN_OUT', to: target.email, variables: { email: target.email, reason } })
    }
    await recordAudit(tx, actor, {
      type: 'forced_sign_out', targetPersonId: target.id, metadata: { reason }, eventData: { disabledKeys },
    })
    return { ok: true as const }
  })
}
