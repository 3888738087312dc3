/**
 * Mailed tokens proving control of an address (types email_verification and email_change):
 * 40 hex characters, stored as SHA-256, single use. Validation order: not found, used, expired,
 * then the caller's own check for TOKEN_INVALID (the token no longer matches the account).
 */
import { and, eq, isNull } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { personToken } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { generateToken, sha256Hex } from '../crypto/tokens.js'
import { fail, ok, type Result } from '../errors.js'

export type EmailTokenType = 'email_verification' | 'email_change'
export type EmailTokenErrorCode = 'TOKEN_NOT_FOUND' | 'TOKEN_INVALID' | 'TOKEN_USED' | 'TOKEN_EXPIRED'

/** Defaults while the tenant configuration has no setting for them. */
export const TOKEN_LIFETIME_MINUTES: Record<EmailTokenType, number> = { email_verification: 24 * 60, email_change: 60 }

export interface EmailTokenRow {
  id: string
  personId: string
  usedAt: Date | null
  expiresAt: Date
  payload: Record<string, unknown> | null
}

/** A new token for the person; earlier unused tokens of the type are retired, so only the newest link works. */
export async function issueEmailToken(
  ctx: DomainContext, tx: Tx, personId: string, type: EmailTokenType, payload: Record<string, unknown>,
): Promise<{ id: string, token: string, expiresAt: Date }> {
  await tx.delete(personToken).where(and(eq(personToken.personId, personId), eq(personToken.type, type), isNull(personToken.usedAt)))
  const token = generateToken()
  const now = ctx.clock()
  const expiresAt = new Date(now.getTime() + TOKEN_LIFETIME_MINUTES[type] * 60_000)
  const [row] = await tx.insert(personToken)
    .values({ tokenHash: sha256Hex(token), personId, type, expiresAt, payload, createdAt: now })
    .returning({ id: personToken.id })
  return { id: row.id, token, expiresAt }
}

export interface LockedEmailToken {
  /** The row when one exists (also for used or expired tokens, so failures can be audited). */
  row?: EmailTokenRow
  verdict: Result<EmailTokenRow, EmailTokenErrorCode>
}

/** Looks the token up and locks its row for the rest of the transaction; malformed tokens are not found. */
export async function lockEmailToken(ctx: DomainContext, tx: Tx, token: string, type: EmailTokenType): Promise<LockedEmailToken> {
  if (!/^[0-9a-f]{40}$/i.test(token)) return { verdict: fail('TOKEN_NOT_FOUND', 'Token not found') }
  const [row] = await tx.select({
    id: personToken.id, personId: personToken.personId, usedAt: personToken.usedAt, expiresAt: personToken.expiresAt, payload: personToken.payload,
  }).from(personToken)
    .where(and(eq(personToken.tokenHash, sha256Hex(token.toLowerCase())), eq(personToken.type, type)))
    .for('update')
  if (!row) return { verdict: fail('TOKEN_NOT_FOUND', 'Token not found') }
  if (row.usedAt) return { row, verdict: fail('TOKEN_USED', `Token used at ${row.usedAt.toISOString()}`) }
  if (row.expiresAt.getTime() < ctx.clock().getTime()) return { row, verdict: fail('TOKEN_EXPIRED', `Token expired at ${row.expiresAt.toISOString()}`) }
  return { row, verdict: ok(row) }
}

export async function markEmailTokenUsed(ctx: DomainContext, tx: Tx, id: string): Promise<void> {
  await tx.update(personToken).set({ usedAt: ctx.clock() }).where(eq(personToken.id, id))
}
