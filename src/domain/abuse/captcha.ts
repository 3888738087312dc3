/**
 * Captcha verification for the public flows (Contember 2.2): Cloudflare Turnstile, hCaptcha and
 * reCAPTCHA v3 all speak the same siteverify contract — POST form `secret`, `response` and
 * optionally `remoteip`; JSON `{ success, score? }`. reCAPTCHA v3 also needs `score >=
 * threshold` (0.5 unless configured). A missing token, a refusal, an unreachable provider or
 * an unreadable answer are all INVALID_CAPTCHA (fail closed). CAPTCHA_VERIFY_URL_OVERRIDE
 * replaces the provider's URL.
 */
import type { DomainContext } from '../context.js'
import { fail } from '../errors.js'
import { readCaptchaSecret, type CaptchaConfig, type CaptchaProvider } from '../config/tenant-config.js'

export const SITEVERIFY_URLS: Record<CaptchaProvider, string> = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
  recaptchaV3: 'https://www.google.com/recaptcha/api/siteverify',
}

const TIMEOUT_MS = 5000
const DEFAULT_RECAPTCHA_THRESHOLD = 0.5

export type CaptchaFlow = keyof CaptchaConfig['protect']

type Verdict = { ok: true } | { ok: false, reason: string }

async function siteverify(url: string, form: URLSearchParams): Promise<{ success?: unknown, score?: unknown } | null> {
  try {
    const response = await fetch(url, {
      method: 'POST', body: form, signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    if (!response.ok) return null
    const body: unknown = await response.json()
    return body && typeof body === 'object' ? body as { success?: unknown, score?: unknown } : null
  } catch {
    return null
  }
}

async function verify(ctx: DomainContext, captcha: CaptchaConfig, token: string | null | undefined, remoteIp: string | undefined): Promise<Verdict> {
  const provider = captcha.provider!
  if (!token) return { ok: false, reason: 'captcha token is missing' }
  if (token.length > 4096) return { ok: false, reason: 'captcha token is too long' }
  const secret = await readCaptchaSecret(ctx.db, ctx.encryption)
  if (!secret) return { ok: false, reason: 'no captcha secret is configured' }
  const form = new URLSearchParams({ secret, response: token })
  if (remoteIp) form.set('remoteip', remoteIp)
  const answer = await siteverify(ctx.config.abuse.captchaVerifyUrl ?? SITEVERIFY_URLS[provider], form)
  if (!answer) return { ok: false, reason: 'the captcha provider could not be reached' }
  if (answer.success !== true) return { ok: false, reason: 'the captcha provider refused the token' }
  if (provider === 'recaptchaV3') {
    const threshold = captcha.threshold ?? DEFAULT_RECAPTCHA_THRESHOLD
    if (typeof answer.score !== 'number' || answer.score < threshold) return { ok: false, reason: `the score is below ${threshold}` }
  }
  return { ok: true }
}

/** INVALID_CAPTCHA when the flow is protected and the token does not verify, else null. */
export async function captchaFailure(ctx: DomainContext, captcha: CaptchaConfig, flow: CaptchaFlow, token: string | null | undefined, remoteIp: string | undefined) {
  if (!captcha.provider || !captcha.protect[flow]) return null
  const verdict = await verify(ctx, captcha, token, remoteIp)
  return verdict.ok ? null : fail('INVALID_CAPTCHA', `Captcha verification failed: ${verdict.reason}`)
}
