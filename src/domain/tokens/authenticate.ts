/**
 * Bearer-token authentication as Contember does it: sha256(token) looked up together with its
 * identity and person (the columns `me { person }` shows) in one round trip; disabled and expired keys refused with Contember's
 * messages. A session due for prolongation (sliding expiry) says so in `prolongTo`; the write
 * is merged with last-use tracking (sessions/tracking.ts), off the request path, at most once a
 * minute. This runs on every /tenant request, so the lookup is a Drizzle prepared query (built
 * once per database, a named statement on the server), coalesced across concurrent requests.
 *
 * Auth-policy limits fixed on a session at sign-in are checked here from the same row: a session
 * unused for its idle timeout is refused like an expired one (and marked expired, off the request
 * path), and prolongation never passes max_expires_at. Last use is written at most every
 * lastUseGranularityMs, so the idle check allows that much slack: a session is never refused
 * before it was really idle for its timeout, and always once idle for timeout + slack.
 */
import { eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { coalescedRowByKey, type Coalesced } from '../../db/coalesced.js'
import { apiKey, identity, person, personMfa } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { sha256Hex } from '../crypto/tokens.js'
import type { PersonRow } from '../identity/queries.js'
import { expireIdleSession } from './idle-expiry.js'

export interface Authenticated {
  identityId: string
  apiKeyId: string
  apiKeyType: 'permanent' | 'session' | 'one_off'
  roles: string[]
  personId: string | null
  /**
   * The caller's person as read with the key (same columns as Identity.person's loader), so that
   * `me { person { … } }` costs no second round trip. A snapshot of the request's start: use it only
   * where nothing in the request has written since (query operations).
   */
  person: PersonRow | null
  /** A session whose expiry should slide: the new expires_at (at least PROLONG_THRESHOLD_MS later). */
  prolongTo?: Date
  /** The session's auth-policy idle timeout: last-use tracking must keep up with it. */
  idleTimeoutMs?: number
}

export type AuthenticationResult =
  | { ok: true, auth: Authenticated }
  | { ok: false, message: string }

const BEARER = /^Bearer\s+(\w+)$/i
/** A prolongation that would move expires_at by less than this is skipped (Contember: 60 s). */
export const PROLONG_THRESHOLD_MS = 60_000
/** Unchanged client info is written at most this often per key (Contember 2.2: 60 s). */
export const TRACKING_INTERVAL_MS = 60_000

/** How stale last_used_at may be: a quarter of an idle timeout when that is shorter than the usual interval. */
export function lastUseGranularityMs(idleTimeoutMs: number | undefined): number {
  return idleTimeoutMs === undefined ? TRACKING_INTERVAL_MS : Math.min(TRACKING_INTERVAL_MS, Math.floor(idleTimeoutMs / 4))
}

/** One key (`tokenHash`) or several (`tokenHashes`): the same row either way. */
function buildLookup(db: Db, batch: boolean) {
  return db
    .select({
      tokenHash: apiKey.tokenHash,
      id: apiKey.id, type: apiKey.type, identityId: apiKey.identityId, expiresAt: apiKey.expiresAt,
      disabledAt: apiKey.disabledAt, expiration: apiKey.expiration, roles: identity.roles, personId: person.id,
      personEmail: person.email, personName: person.name, personPasswordlessEnabled: person.passwordlessEnabled,
      personDisabledAt: person.disabledAt, personOtpActivatedAt: personMfa.otpActivatedAt,
      createdAt: apiKey.createdAt, lastUsedAt: apiKey.lastUsedAt, idleTimeoutSeconds: apiKey.idleTimeoutSeconds, maxExpiresAt: apiKey.maxExpiresAt,
    })
    .from(apiKey)
    .innerJoin(identity, eq(identity.id, apiKey.identityId))
    .leftJoin(person, eq(person.identityId, apiKey.identityId))
    .leftJoin(personMfa, eq(personMfa.personId, person.id))
    .where(batch
      ? sql`${apiKey.tokenHash} = any(${sql.placeholder('tokenHashes')}::text[])`
      : eq(apiKey.tokenHash, sql.placeholder('tokenHash')))
    .prepare(batch ? 'tenant_gateway_authenticate_batch' : 'tenant_gateway_authenticate')
}

type KeyRow = Awaited<ReturnType<ReturnType<typeof buildLookup>['execute']>>[number]

/**
 * The lookup is built once per database (building a Drizzle query costs more CPU than its round
 * trip) and coalesced: concurrent requests beyond a few in flight share one round trip. A lone
 * key keeps its own statement, whose plan is the one-row index lookup.
 */
const lookups = new WeakMap<Db, Coalesced<string, KeyRow | undefined>>()
function lookup(db: Db) {
  let coalesced = lookups.get(db)
  if (!coalesced) {
    const one = buildLookup(db, false)
    const many = buildLookup(db, true)
    lookups.set(db, coalesced = coalescedRowByKey({
      one: async (tokenHash) => (await one.execute({ tokenHash }))[0],
      many: (tokenHashes) => many.execute({ tokenHashes }),
      keyOf: (row) => row.tokenHash,
      maxInFlight: 4,
      maxBatch: 64,
    }))
  }
  return coalesced
}

export function sessionExpiry(ctx: DomainContext, expirationMinutes: number | null, now: Date): Date {
  const minutes = Math.min(expirationMinutes ?? ctx.config.sessions.defaultExpirationMinutes, ctx.config.sessions.maxExpirationMinutes)
  return new Date(now.getTime() + minutes * 60_000)
}

export async function authenticate(ctx: DomainContext, authorization: string | undefined): Promise<AuthenticationResult> {
  if (authorization === undefined || authorization === '') return { ok: false, message: 'Authentication required' }
  const match = BEARER.exec(authorization)
  if (!match) return { ok: false, message: 'Authorization failure: invalid Authorization header format' }

  const row = await lookup(ctx.db).call(sha256Hex(match[1]))
  if (!row) return { ok: false, message: 'Authorization failure: API key was not found' }
  if (row.disabledAt) return { ok: false, message: `Authorization failure: API key was disabled at ${row.disabledAt.toISOString()}` }
  const now = ctx.clock()
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) {
    return { ok: false, message: `Authorization failure: API key expired at ${row.expiresAt.toISOString()}` }
  }
  const idleTimeoutMs = row.idleTimeoutSeconds === null ? undefined : row.idleTimeoutSeconds * 1000
  if (idleTimeoutMs !== undefined) {
    const lastActive = (row.lastUsedAt ?? row.createdAt).getTime()
    if (now.getTime() - lastActive >= idleTimeoutMs + lastUseGranularityMs(idleTimeoutMs)) {
      const expiredAt = new Date(lastActive + idleTimeoutMs)
      expireIdleSession(ctx, { apiKeyId: row.id, personId: row.personId, lastActive: new Date(lastActive), expiredAt })
      return { ok: false, message: `Authorization failure: API key expired at ${expiredAt.toISOString()}` }
    }
  }
  let prolongTo: Date | undefined
  if (row.type === 'session' && row.expiresAt) {
    let next = sessionExpiry(ctx, row.expiration, now)
    if (row.maxExpiresAt && next.getTime() > row.maxExpiresAt.getTime()) next = row.maxExpiresAt
    if (next.getTime() - row.expiresAt.getTime() >= PROLONG_THRESHOLD_MS) prolongTo = next
  }
  const self: PersonRow | null = row.personId === null ? null : {
    id: row.personId, identityId: row.identityId, email: row.personEmail, name: row.personName,
    otpEnabled: row.personOtpActivatedAt !== null, passwordlessEnabled: row.personPasswordlessEnabled, disabledAt: row.personDisabledAt,
  }
  return {
    ok: true,
    auth: { identityId: row.identityId, apiKeyId: row.id, apiKeyType: row.type, roles: row.roles, personId: row.personId, person: self, prolongTo, idleTimeoutMs },
  }
}
