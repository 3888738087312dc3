/**
 * Bearer-token authentication as Contember does it: sha256(token) looked up together with its
 * identity and person in one round trip; disabled and expired keys refused with Contember's
 * messages; sessions prolonged (sliding expiry) off the request path, at most once a minute.
 * This runs on every /tenant request, so the lookup is a Drizzle prepared query (built once per
 * database, a named statement on the server) and prolongations are deduplicated in process.
 */
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { apiKey, identity, person } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { sha256Hex } from '../crypto/tokens.js'

export interface Authenticated {
  identityId: string
  apiKeyId: string
  apiKeyType: 'permanent' | 'session' | 'one_off'
  roles: string[]
  personId: string | null
}

export type AuthenticationResult =
  | { ok: true, auth: Authenticated }
  | { ok: false, message: string }

const BEARER = /^Bearer\s+(\w+)$/i
/** A prolongation that would move expires_at by less than this is skipped (Contember: 60 s). */
const PROLONG_THRESHOLD_MS = 60_000

function buildLookup(db: Db) {
  return db
    .select({
      id: apiKey.id, type: apiKey.type, identityId: apiKey.identityId, expiresAt: apiKey.expiresAt,
      disabledAt: apiKey.disabledAt, expiration: apiKey.expiration, roles: identity.roles, personId: person.id,
    })
    .from(apiKey)
    .innerJoin(identity, eq(identity.id, apiKey.identityId))
    .leftJoin(person, eq(person.identityId, apiKey.identityId))
    .where(eq(apiKey.tokenHash, sql.placeholder('tokenHash')))
    .limit(1)
    .prepare('tenant_gateway_authenticate')
}

/** Building a Drizzle query costs more CPU than the round trip it makes: build it once per database. */
const lookups = new WeakMap<Db, ReturnType<typeof buildLookup>>()
function lookup(db: Db) {
  let prepared = lookups.get(db)
  if (!prepared) lookups.set(db, prepared = buildLookup(db))
  return prepared
}

/**
 * Sessions whose prolongation this process has already sent, with when: concurrent requests of
 * one session all see the old expiry until the first write lands, and must not each write.
 */
const prolonged = new Map<string, number>()
const PROLONGED_MAX_ENTRIES = 10_000

function claimProlongation(apiKeyId: string, nowMs: number): boolean {
  const last = prolonged.get(apiKeyId)
  if (last !== undefined && nowMs - last < PROLONG_THRESHOLD_MS) return false
  if (prolonged.size >= PROLONGED_MAX_ENTRIES) {
    for (const [id, at] of prolonged) if (nowMs - at >= PROLONG_THRESHOLD_MS) prolonged.delete(id)
    // Still full of fresh entries: forget them all rather than grow (a few extra writes at worst).
    if (prolonged.size >= PROLONGED_MAX_ENTRIES) prolonged.clear()
  }
  prolonged.set(apiKeyId, nowMs)
  return true
}

export function sessionExpiry(ctx: DomainContext, expirationMinutes: number | null, now: Date): Date {
  const minutes = Math.min(expirationMinutes ?? ctx.config.sessions.defaultExpirationMinutes, ctx.config.sessions.maxExpirationMinutes)
  return new Date(now.getTime() + minutes * 60_000)
}

export async function authenticate(ctx: DomainContext, authorization: string | undefined): Promise<AuthenticationResult> {
  if (authorization === undefined || authorization === '') return { ok: false, message: 'Authentication required' }
  const match = BEARER.exec(authorization)
  if (!match) return { ok: false, message: 'Authorization failure: invalid Authorization header format' }

  const [row] = await lookup(ctx.db).execute({ tokenHash: sha256Hex(match[1]) })
  if (!row) return { ok: false, message: 'Authorization failure: API key was not found' }
  if (row.disabledAt) return { ok: false, message: `Authorization failure: API key was disabled at ${row.disabledAt.toISOString()}` }
  const now = ctx.clock()
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) {
    return { ok: false, message: `Authorization failure: API key expired at ${row.expiresAt.toISOString()}` }
  }
  if (row.type === 'session' && row.expiresAt) {
    const next = sessionExpiry(ctx, row.expiration, now)
    if (next.getTime() - row.expiresAt.getTime() >= PROLONG_THRESHOLD_MS && claimProlongation(row.id, now.getTime())) {
      // Fire and forget, as Contember: a failed prolongation must not fail the request. The
      // condition keeps other nodes from repeating it and never revives a session that was
      // ended (disabled or expired) since it was read.
      const threshold = new Date(next.getTime() - PROLONG_THRESHOLD_MS)
      setImmediate(() => {
        ctx.db.update(apiKey).set({ expiresAt: next, lastUsedAt: now })
          .where(and(eq(apiKey.id, row.id), isNull(apiKey.disabledAt), gt(apiKey.expiresAt, now), lt(apiKey.expiresAt, threshold)))
          .catch(() => {})
      })
    }
  }
  return {
    ok: true,
    auth: { identityId: row.identityId, apiKeyId: row.id, apiKeyType: row.type, roles: row.roles, personId: row.personId },
  }
}
