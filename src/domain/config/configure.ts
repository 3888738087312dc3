/**
 * configure: a partial update of the tenant configuration, validated first (INVALID_CONFIG
 * naming the field; Contember stored anything) and audited as `tenant_config_change` with the
 * input, before and after; a captcha secret in the input is recorded as "***".
 */
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import type { Failure } from '../identity/persons.js'
import { invalidateTenantConfigCache, readTenantConfig, updateTenantConfig, type TenantConfigInput } from './tenant-config.js'
import { configProblem } from './validate.js'

function redacted(input: TenantConfigInput): TenantConfigInput {
  if (typeof input.captcha?.secret !== 'string') return input
  return { ...input, captcha: { ...input.captcha, secret: '***' } }
}

export async function configure(ctx: DomainContext, actor: Actor, input: TenantConfigInput): Promise<{ ok: true } | Failure<'INVALID_CONFIG'>> {
  // Invalidated again once committed: a cached read made while the transaction ran saw the old row.
  try {
    return await applyConfiguration(ctx, actor, input)
  } finally {
    invalidateTenantConfigCache()
  }
}

function applyConfiguration(ctx: DomainContext, actor: Actor, input: TenantConfigInput): Promise<{ ok: true } | Failure<'INVALID_CONFIG'>> {
  return ctx.db.transaction(async (tx) => {
    const problem = configProblem(input, await readTenantConfig(tx), ctx.config)
    if (problem) return fail('INVALID_CONFIG', `Invalid configuration: ${problem}`)
    const { before, after } = await updateTenantConfig(tx, input, ctx.clock(), ctx.encryption)
    await recordAudit(tx, actor, { type: 'tenant_config_change', eventData: { input: redacted(input), before, after } })
    return { ok: true as const }
  })
}
