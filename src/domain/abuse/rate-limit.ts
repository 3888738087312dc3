/**
 * Per-IP sliding-window limits (Contember 2.2 `rateLimits`): each of signUpPerIp, loginPerIp
 * (signIn, signInIDP, signInPasswordless), passwordResetPerIp, passwordlessInitPerIp and
 * emailVerificationPerIp allows `limit` attempts per `window` from one client address; limit 0
 * turns it off (the default) and then no store is touched. Only allowed attempts are recorded.
 * Keys are SHA-256 of the address. The store is one per running service: in memory, or Redis
 * with REDIS_URL. When the store fails (Redis away), the limited operation is refused
 * (RATE_LIMIT_EXCEEDED, retry after 5 s): failing open would switch the limits off for exactly
 * as long as someone can keep Redis busy.
 */
import type { DomainContext } from '../context.js'
import { sha256Hex } from '../crypto/tokens.js'
import { fail } from '../errors.js'
import { intervalMs } from '../config/interval.js'
import type { RateLimitName, TenantConfig } from '../config/tenant-config.js'
import { RedisWindowStore } from './redis-store.js'
import { MemoryWindowStore, type SlidingWindowStore } from './store.js'

export const STORE_UNAVAILABLE_RETRY_SECONDS = 5

interface Registered { store: SlidingWindowStore, report: (error: unknown) => void }
const stores = new WeakMap<DomainContext, Registered>()

function registered(ctx: DomainContext): Registered {
  let entry = stores.get(ctx)
  if (!entry) {
    const { redisUrl, abuse } = ctx.config
    const store = redisUrl ? new RedisWindowStore(redisUrl, abuse.redisKeyPrefix) : new MemoryWindowStore()
    stores.set(ctx, entry = { store, report: () => {} })
  }
  return entry
}

export function rateLimitStore(ctx: DomainContext): SlidingWindowStore {
  return registered(ctx).store
}

/** Where store failures are reported (the surface's logger); they are never silent. */
export function reportRateLimitErrors(ctx: DomainContext, report: (error: unknown) => void): void {
  registered(ctx).report = report
}

export async function closeRateLimitStore(ctx: DomainContext): Promise<void> {
  const entry = stores.get(ctx)
  stores.delete(ctx)
  await entry?.store.close()
}

/** A store call whose failure becomes a refusal (fail closed), reported once per call. */
export async function guarded<T>(ctx: DomainContext, work: (store: SlidingWindowStore) => Promise<T>): Promise<{ ok: true, value: T } | { ok: false }> {
  const entry = registered(ctx)
  try {
    return { ok: true, value: await work(entry.store) }
  } catch (error) {
    entry.report(error)
    return { ok: false }
  }
}

export const storeKey = (scope: string, subject: string) => `${scope}:${sha256Hex(subject)}`

export type RateLimited = ReturnType<typeof rateLimitExceeded>

export function rateLimitExceeded(retryAfterSeconds: number, message = `Too many attempts. Retry after ${retryAfterSeconds}s.`) {
  return fail('RATE_LIMIT_EXCEEDED', message, { retryAfter: retryAfterSeconds })
}

/**
 * Counts one attempt of `name` from `subject` (an IP address, or a person id for
 * emailOtpPerPerson). Null when allowed, else the RATE_LIMIT_EXCEEDED failure.
 */
export async function consumeRateLimit(ctx: DomainContext, tenant: TenantConfig, name: RateLimitName, subject: string | undefined): Promise<RateLimited | null> {
  const { limit, window } = tenant.rateLimits[name]
  const windowMs = intervalMs(window)
  if (limit <= 0 || !windowMs || !subject) return null
  const decision = await guarded(ctx, (store) => store.consume(storeKey(name, subject), limit, windowMs, ctx.clock().getTime()))
  if (!decision.ok) return rateLimitExceeded(STORE_UNAVAILABLE_RETRY_SECONDS, 'Rate limiting is temporarily unavailable. Retry later.')
  if (decision.value.allowed) return null
  const seconds = Math.max(1, Math.ceil(decision.value.retryAfterMs / 1000))
  return rateLimitExceeded(seconds, `Too many attempts from this address. Retry after ${seconds}s.`)
}
