/**
 * Creating and ending API keys: sessions (signIn, createSessionToken), permanent global keys,
 * and the three ways a key ends (one key, every key of an identity). Keys are never deleted,
 * only disabled, as Contember does; the token itself is returned once and stored as SHA-256.
 */
import { and, eq, isNull, ne } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { apiKey } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { generateToken, sha256Hex } from '../crypto/tokens.js'
import { sessionExpiry } from '../tokens/authenticate.js'

/** Where a session was minted from (the request's client IP and user agent), kept on the key. */
export interface ClientInfo {
  ip?: string | null
  userAgent?: string | null
}

/** User agents are stored cut to this length: a header may be kilobytes long, a UI shows a line. */
const USER_AGENT_MAX = 512

export function clipUserAgent(userAgent: string | null | undefined): string | null {
  return userAgent ? userAgent.slice(0, USER_AGENT_MAX) : null
}

export interface IssuedKey {
  id: string
  /** The plain token; null when the caller supplied only its hash. */
  token: string | null
}

/** Auth-policy limits fixed on a session when it is created (auth-policies/session-terms.ts). */
export interface SessionLimits {
  idleTimeoutSeconds?: number | null
  /** The session never slides past its first expiry. */
  fixedLifetime?: boolean
}

/**
 * A session key for the identity. `expirationMinutes` is Contember's `expiration` argument:
 * missing, zero or negative means the configured default; anything above the configured
 * maximum is capped (stored capped, so sliding prolongation keeps the same bound). `client` (an
 * Actor fits) is recorded as the session's created IP and user agent, shown by Identity.sessions.
 */
export async function createSessionKey(
  ctx: DomainContext, tx: DbOrTx, identityId: string, expirationMinutes: number | null | undefined, client: ClientInfo = {},
  limits: SessionLimits = {},
): Promise<IssuedKey & { token: string, expiresAt: Date }> {
  const requested = expirationMinutes && expirationMinutes > 0
    ? Math.min(expirationMinutes, ctx.config.sessions.maxExpirationMinutes)
    : null
  const token = generateToken()
  const expiresAt = sessionExpiry(ctx, requested, ctx.clock())
  const [row] = await tx.insert(apiKey).values({
    tokenHash: sha256Hex(token), type: 'session', identityId, expiration: requested, expiresAt, createdAt: ctx.clock(),
    createdIp: client.ip ?? null, createdUserAgent: clipUserAgent(client.userAgent),
    idleTimeoutSeconds: limits.idleTimeoutSeconds ?? null, maxExpiresAt: limits.fixedLifetime ? expiresAt : null,
  }).returning({ id: apiKey.id })
  return { id: row.id, token, expiresAt }
}

/** A permanent key; with `tokenHash` the caller keeps the token and none is generated. */
export async function createPermanentKey(ctx: DomainContext, tx: DbOrTx, identityId: string, tokenHash?: string): Promise<IssuedKey> {
  const token = tokenHash ? null : generateToken()
  const [row] = await tx.insert(apiKey).values({
    tokenHash: tokenHash ?? sha256Hex(token!), type: 'permanent', identityId, createdAt: ctx.clock(),
  }).returning({ id: apiKey.id })
  return { id: row.id, token }
}

/** Disables one key; false when there is no such key. Disabling twice keeps the first date. */
export async function disableKey(tx: DbOrTx, apiKeyId: string, now: Date): Promise<boolean> {
  const [row] = await tx.select({ id: apiKey.id, disabledAt: apiKey.disabledAt }).from(apiKey).where(eq(apiKey.id, apiKeyId)).limit(1)
  if (!row) return false
  if (!row.disabledAt) await tx.update(apiKey).set({ disabledAt: now }).where(eq(apiKey.id, apiKeyId))
  return true
}

/** Disables every still-active key of the identity (sessions and permanent keys alike). */
export async function disableIdentityKeys(tx: DbOrTx, identityId: string, now: Date): Promise<number> {
  const rows = await tx.update(apiKey).set({ disabledAt: now })
    .where(and(eq(apiKey.identityId, identityId), isNull(apiKey.disabledAt)))
    .returning({ id: apiKey.id })
  return rows.length
}

/**
 * Ends the identity's sessions (permanent keys stay): what a password change or reset does.
 * The caller's own session survives its own password change, since it just proved the password.
 */
export async function disableIdentitySessions(tx: DbOrTx, identityId: string, now: Date, keepApiKeyId?: string): Promise<number> {
  const conditions = [eq(apiKey.identityId, identityId), eq(apiKey.type, 'session'), isNull(apiKey.disabledAt)]
  if (keepApiKeyId) conditions.push(ne(apiKey.id, keepApiKeyId))
  const rows = await tx.update(apiKey).set({ disabledAt: now }).where(and(...conditions)).returning({ id: apiKey.id })
  return rows.length
}
