/**
 * Throttling of password sign-ins, on top of the per-IP limit:
 * - Backoff per e-mail (Contember 2.1): failed attempts within `login.attemptWindow` are counted
 *   in the rate-limit store under sha256(e-mail); after `LOGIN_BACKOFF_FREE_ATTEMPTS` of them
 *   (typos cost nothing) each further attempt waits `baseBackoff * 2^(n - free)`, at most
 *   `maxBackoff`, after the last failure. Keyed by the typed e-mail, so unknown addresses are
 *   throttled exactly like existing ones and the backoff reveals nothing.
 * - Lockout per account (NIST SP 800-63B §5.2.2, at most 100): `person.failed_sign_ins` counts
 *   consecutive wrong passwords; at LOGIN_LOCKOUT_THRESHOLD (≤ 100) the account refuses password
 *   sign-in for LOGIN_LOCKOUT_MINUTES after the last failure. A successful sign-in or a password
 *   reset/change by someone else starts the count again.
 */
import { eq, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { person } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { intervalMs } from '../config/interval.js'
import type { LoginConfig } from '../config/tenant-config.js'
import { normalizeEmail } from '../identity/email.js'
import { guarded, rateLimitExceeded, storeKey, STORE_UNAVAILABLE_RETRY_SECONDS, type RateLimited } from './rate-limit.js'

const FAILURE_SCOPE = 'loginFailure'
const failureKey = (email: string) => storeKey(FAILURE_SCOPE, normalizeEmail(email))

function windowMs(login: LoginConfig): number {
  return intervalMs(login.attemptWindow) ?? 5 * 60_000
}

/** The wait after `failures` failed attempts in the window: none for the free ones, then base, 2·base, 4·base… */
export function backoffMs(login: LoginConfig, failures: number, freeAttempts: number): number {
  if (failures <= freeAttempts) return 0
  const base = intervalMs(login.baseBackoff) ?? 0
  const max = intervalMs(login.maxBackoff) ?? 0
  return Math.min(max, base * 2 ** Math.min(failures - freeAttempts - 1, 30))
}

const unavailable = () => rateLimitExceeded(STORE_UNAVAILABLE_RETRY_SECONDS, 'Rate limiting is temporarily unavailable. Retry later.')

/** RATE_LIMIT_EXCEEDED while the e-mail is in backoff, else null. */
export async function backoffFailure(ctx: DomainContext, login: LoginConfig, email: string): Promise<RateLimited | null> {
  const now = ctx.clock().getTime()
  const state = await guarded(ctx, (store) => store.inspect(failureKey(email), windowMs(login), now))
  if (!state.ok) return unavailable()
  const { count, newestMs } = state.value
  const next = newestMs === null ? 0 : newestMs + backoffMs(login, count, ctx.config.abuse.loginFreeAttempts)
  if (next <= now) return null
  const seconds = Math.max(1, Math.ceil((next - now) / 1000))
  return rateLimitExceeded(seconds, `Too many failed sign-in attempts. Retry after ${seconds}s.`)
}

/** Counts a failed attempt for the e-mail's backoff (after the outcome is known). */
export async function recordFailedAttempt(ctx: DomainContext, login: LoginConfig, email: string): Promise<void> {
  await guarded(ctx, (store) => store.record(failureKey(email), windowMs(login), ctx.clock().getTime()))
}

export async function clearFailedAttempts(ctx: DomainContext, email: string): Promise<void> {
  await guarded(ctx, (store) => store.clear(failureKey(email)))
}

/** RATE_LIMIT_EXCEEDED while the account is locked out (from the person's failed_sign_ins and last_failed_sign_in_at), else null. */
export function lockoutOf(ctx: DomainContext, row: { failures: number, lastAt: Date | null }): RateLimited | null {
  const { lockoutThreshold, lockoutMinutes } = ctx.config.abuse
  if (!row.lastAt || row.failures < lockoutThreshold) return null
  const until = row.lastAt.getTime() + lockoutMinutes * 60_000
  const now = ctx.clock().getTime()
  if (until <= now) return null
  const seconds = Math.ceil((until - now) / 1000)
  return rateLimitExceeded(seconds, `The account is locked after ${row.failures} failed sign-in attempts. Retry after ${seconds}s or reset the password.`)
}

/** One more consecutive wrong password; returns the new count. */
export async function countWrongPassword(db: DbOrTx, personId: string, now: Date): Promise<number> {
  const [row] = await db.update(person).set({ failedSignIns: sql`${person.failedSignIns} + 1`, lastFailedSignInAt: now })
    .where(eq(person.id, personId)).returning({ failures: person.failedSignIns })
  return row?.failures ?? 0
}

/** Starts the consecutive count again (successful sign-in, password set by reset or admin). */
export async function resetWrongPasswords(db: DbOrTx, personId: string): Promise<void> {
  await db.update(person).set({ failedSignIns: 0, lastFailedSignInAt: null })
    .where(sql`${person.id} = ${personId} and ${person.failedSignIns} <> 0`)
}
