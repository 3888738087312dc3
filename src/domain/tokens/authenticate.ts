/**
 * Bearer-token authentication as Contember does it: sha256(token) looked up together with its
 * identity and person in one round trip; disabled and expired keys refused with Contember's
 * messages; sessions prolonged (sliding expiry) off the request path, at most once a minute.
 */
import { eq } from 'drizzle-orm'
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

export function sessionExpiry(ctx: DomainContext, expirationMinutes: number | null, now: Date): Date {
  const minutes = Math.min(expirationMinutes ?? ctx.config.sessions.defaultExpirationMinutes, ctx.config.sessions.maxExpirationMinutes)
  return new Date(now.getTime() + minutes * 60_000)
}

export async function authenticate(ctx: DomainContext, authorization: string | undefined): Promise<AuthenticationResult> {
  if (authorization === undefined || authorization === '') return { ok: false, message: 'Authentication required' }
  const match = BEARER.exec(authorization)
  if (!match) return { ok: false, message: 'Authorization failure: invalid Authorization header format' }

  const [row] = await ctx.db
    .select({
      id: apiKey.id, type: apiKey.type, identityId: apiKey.identityId, expiresAt: apiKey.expiresAt,
      disabledAt: apiKey.disabledAt, expiration: apiKey.expiration, roles: identity.roles, personId: person.id,
    })
    .from(apiKey)
    .innerJoin(identity, eq(identity.id, apiKey.identityId))
    .leftJoin(person, eq(person.identityId, apiKey.identityId))
    .where(eq(apiKey.tokenHash, sha256Hex(match[1])))
    .limit(1)
  if (!row) return { ok: false, message: 'Authorization failure: API key was not found' }
  if (row.disabledAt) return { ok: false, message: `Authorization failure: API key was disabled at ${row.disabledAt.toISOString()}` }
  const now = ctx.clock()
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) {
    return { ok: false, message: `Authorization failure: API key expired at ${row.expiresAt.toISOString()}` }
  }
  if (row.type === 'session' && row.expiresAt) {
    const next = sessionExpiry(ctx, row.expiration, now)
    if (next.getTime() - row.expiresAt.getTime() >= PROLONG_THRESHOLD_MS) {
      // Fire and forget, as Contember: a failed prolongation must not fail the request.
      setImmediate(() => {
        ctx.db.update(apiKey).set({ expiresAt: next, lastUsedAt: now }).where(eq(apiKey.id, row.id)).catch(() => {})
      })
    }
  }
  return {
    ok: true,
    auth: { identityId: row.identityId, apiKeyId: row.id, apiKeyType: row.type, roles: row.roles, personId: row.personId },
  }
}
