/**
 * What the routing layer needs about every live tenant, read in one query: hostname, enabled
 * flag and the effective limits/env (the same merge the REST surface shows). Traefik routes the
 * enabled ones; the hostname resolver answers for all of them. env is decrypted only when
 * asked for, so the in-memory snapshot holds no secret in clear.
 */
import { asc, eq, isNull } from 'drizzle-orm'
import { plan, tenant } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { decryptEnv } from '../plans/plans.js'
import { effectiveEnv, effectiveLimits, type LimitsMap, type StringMap } from './values.js'

export interface HostedTenant {
  id: string
  hostname: string
  isEnabled: boolean
  limits: StringMap
  /** The effective env, decrypted on each call. */
  env(): StringMap
}

export async function hostedTenants(ctx: DomainContext): Promise<HostedTenant[]> {
  const rows = await ctx.db.select({
    id: tenant.id, hostname: tenant.hostname, isEnabled: tenant.isEnabled, own: tenant.limits, ownEnv: tenant.envEncrypted,
    planLimits: plan.limits, planEnv: plan.envEncrypted,
  }).from(tenant).leftJoin(plan, eq(plan.id, tenant.planId)).where(isNull(tenant.archivedAt)).orderBy(asc(tenant.id))
  const enforced = ctx.config.traefik.tenantEnforced
  return rows.map((row) => ({
    id: row.id,
    hostname: row.hostname,
    isEnabled: row.isEnabled,
    limits: effectiveLimits(row.planLimits as LimitsMap | null, row.own as LimitsMap | null, enforced),
    env: () => effectiveEnv(decryptEnv(ctx, row.planEnv), decryptEnv(ctx, row.ownEnv), enforced),
  }))
}
