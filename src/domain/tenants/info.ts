/**
 * Hosting facts of projects for GraphQL's Project.tenant: hostname, enabled flag, plan, the
 * effective limits (the same merge as REST) and the usage they apply to. One query for the
 * tenants and one for the counts, whatever the number of projects.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm'
import { plan, tenant } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import type { TenantUsage } from '../limits/membership-limits.js'
import { statsByProject } from './stats.js'
import { effectiveLimits, type LimitsMap, type StringMap } from './values.js'

export interface TenantInfo {
  id: string
  hostname: string
  isEnabled: boolean
  plan: { id: string } | null
  limits: StringMap
  usage: TenantUsage
}

export async function tenantInfoByProjects(ctx: DomainContext, projectIds: readonly string[]): Promise<Map<string, TenantInfo>> {
  const result = new Map<string, TenantInfo>()
  if (projectIds.length === 0) return result
  const rows = await ctx.db.select({ tenant, planLimits: plan.limits }).from(tenant)
    .leftJoin(plan, eq(plan.id, tenant.planId))
    .where(and(inArray(tenant.projectId, [...new Set(projectIds)]), isNull(tenant.archivedAt)))
  const stats = await statsByProject(ctx, rows.map((row) => row.tenant.projectId))
  for (const { tenant: t, planLimits } of rows) {
    const counted = stats.get(t.projectId)
    result.set(t.projectId, {
      id: t.id,
      hostname: t.hostname,
      isEnabled: t.isEnabled,
      plan: t.planId ? { id: t.planId } : null,
      limits: effectiveLimits(planLimits as LimitsMap | null, t.limits as LimitsMap | null, ctx.config.traefik.tenantEnforced),
      usage: { users: counted?.users ?? 0, admins: counted?.admins ?? 0 },
    })
  }
  return result
}
