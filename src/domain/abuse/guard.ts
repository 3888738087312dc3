/**
 * The gate in front of a public flow (sign-up, password reset, passwordless init, e-mail
 * verification): the per-IP limit first (cheap, and a refused attempt costs the captcha
 * provider nothing), then the captcha when the flow is protected.
 */
import type { Actor, DomainContext } from '../context.js'
import type { RateLimitName, TenantConfig } from '../config/tenant-config.js'
import { captchaFailure, type CaptchaFlow } from './captcha.js'
import { consumeRateLimit } from './rate-limit.js'

export async function publicFlowFailure(
  ctx: DomainContext, actor: Actor, tenant: TenantConfig, limit: RateLimitName, flow: CaptchaFlow, captchaToken: string | null | undefined,
) {
  return await consumeRateLimit(ctx, tenant, limit, actor.ip)
    ?? await captchaFailure(ctx, tenant.captcha, flow, captchaToken, actor.ip)
}
