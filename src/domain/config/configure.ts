/**
 * configure: a partial update of the tenant configuration, audited as `tenant_config_change`
 * with the input (it holds no secrets). Unlike Contember, values that would break passwordless
 * sign-in (a null policy, a non-positive lifetime, a URL that is not http(s)) are INVALID_CONFIG.
 */
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import type { Failure } from '../identity/persons.js'
import { updateTenantConfig, type TenantConfigInput } from './tenant-config.js'

const MAX_EXPIRATION_MINUTES = 7 * 24 * 60

function invalidReason(input: TenantConfigInput): string | null {
  const passwordless = input.passwordless
  if (!passwordless) return null
  if (passwordless.enabled === null) return 'passwordless.enabled cannot be null'
  const minutes = passwordless.expirationMinutes
  if (minutes === null) return 'passwordless.expirationMinutes cannot be null'
  if (minutes !== undefined && (minutes < 1 || minutes > MAX_EXPIRATION_MINUTES)) {
    return `passwordless.expirationMinutes must be between 1 and ${MAX_EXPIRATION_MINUTES}`
  }
  if (typeof passwordless.url === 'string' && !/^https?:\/\/[^\s]+$/i.test(passwordless.url)) return 'passwordless.url must be an http(s) URL'
  return null
}

export async function configure(ctx: DomainContext, actor: Actor, input: TenantConfigInput): Promise<{ ok: true } | Failure<'INVALID_CONFIG'>> {
  const reason = invalidReason(input)
  if (reason) return fail('INVALID_CONFIG', `Invalid configuration: ${reason}`)
  return ctx.db.transaction(async (tx) => {
    const { before, after } = await updateTenantConfig(tx, input, ctx.clock())
    await recordAudit(tx, actor, { type: 'tenant_config_change', eventData: { input, before, after } })
    return { ok: true as const }
  })
}
