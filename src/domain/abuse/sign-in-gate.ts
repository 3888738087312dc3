/**
 * What surrounds a password sign-in: the refusals before any password is checked (per-IP limit,
 * e-mail backoff, account lockout) and, once the outcome is known, the bookkeeping (backoff
 * counts failures of the credentials only) and the masking of Contember 2.2: with
 * `revealUserExists` off (the default) an unknown e-mail, a missing or wrong password and a
 * disabled person all answer INVALID_CREDENTIALS; with it on but `revealLoginMethod` off, only
 * NO_PASSWORD_SET and INVALID_PASSWORD are collapsed.
 */
import type { Actor, DomainContext } from '../context.js'
import { fail } from '../errors.js'
import type { LoginConfig, TenantConfig } from '../config/tenant-config.js'
import { backoffFailure, clearFailedAttempts, lockoutOf, recordFailedAttempt } from './login-throttle.js'
import { consumeRateLimit } from './rate-limit.js'

const CREDENTIAL_FAILURES = new Set(['UNKNOWN_EMAIL', 'NO_PASSWORD_SET', 'INVALID_PASSWORD'])
const EXISTENCE_SIGNALS = new Set(['UNKNOWN_EMAIL', 'NO_PASSWORD_SET', 'INVALID_PASSWORD', 'PERSON_DISABLED'])
const METHOD_SIGNALS = new Set(['NO_PASSWORD_SET', 'INVALID_PASSWORD'])

/** RATE_LIMIT_EXCEEDED (with retryAfter) when this attempt must not even be checked, else null. */
export async function signInRefusal(ctx: DomainContext, actor: Actor, tenant: TenantConfig, email: string, lockout: { failures: number, lastAt: Date | null } | undefined) {
  return await consumeRateLimit(ctx, tenant, 'loginPerIp', actor.ip)
    ?? await backoffFailure(ctx, tenant.login, email)
    ?? (lockout ? lockoutOf(ctx, lockout) : null)
}

type Outcome = { ok: true } | { ok: false, code: string, message: string, details?: Record<string, unknown> }

/** Counts or clears the e-mail's failures, then masks what the configuration hides. */
export async function settleSignIn<T extends Outcome>(ctx: DomainContext, login: LoginConfig, email: string, outcome: T): Promise<T | ReturnType<typeof fail<'INVALID_CREDENTIALS'>>> {
  if (outcome.ok) {
    await clearFailedAttempts(ctx, email)
    return outcome
  }
  if (CREDENTIAL_FAILURES.has(outcome.code)) await recordFailedAttempt(ctx, login, email)
  const masked = login.revealUserExists ? !login.revealLoginMethod && METHOD_SIGNALS.has(outcome.code) : EXISTENCE_SIGNALS.has(outcome.code)
  return masked ? fail('INVALID_CREDENTIALS', 'Invalid credentials') : outcome
}
