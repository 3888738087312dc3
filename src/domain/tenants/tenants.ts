/**
 * Tenants: the hosting side of a project (slug = tenant id). Creating a tenant creates or
 * adopts its project in the same transaction; unique indexes, not prior reads, decide races
 * (two concurrent creates of one id: one wins, the other is a conflict).
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import type { Db, Tx } from '../../db/client.js'
import { coalescedRowByKey, type Coalesced } from '../../db/coalesced.js'
import { plan, project, tenant } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { DomainError } from '../errors.js'
import { decryptEnv, sealEnv } from '../plans/plans.js'
import { constraintViolation } from './constraint.js'
import { statsByProject, statsColumn, type TenantStats } from './stats.js'
import {
  checkHostname, checkId, checkMap, effectiveEnv, effectiveLimits, emptyToNull, formatDateTime, type LimitsMap, type StringMap,
} from './values.js'

export interface TenantView {
  id: string
  hostname: string
  is_enabled: boolean
  created_at: string
  updated_at: string | null
  plan_id: string | null
  limits: StringMap
  env: StringMap
  stats: TenantStats
  last_job_at: string | null
}

export const tenantNotFound = (id: string) => new DomainError('not_found', 'TENANT_NOT_FOUND', `Tenant "${id}" not found`, 'id')
const planNotFound = (id: string) => new DomainError('conflict', 'PLAN_NOT_FOUND', `plan_id: tenant plan "${id}" does not exist`, 'plan_id')

/** Maps the constraint that refused a tenant write onto the conflict a caller understands. */
export function tenantConflict(error: unknown, id: string, hostname?: string, planId?: string | null): DomainError | undefined {
  const violation = constraintViolation(error)
  if (!violation) return undefined
  if (violation.kind === 'foreign_key') return planNotFound(planId ?? '')
  if (violation.constraint.includes('hostname')) {
    return new DomainError('conflict', 'HOSTNAME_TAKEN', `hostname: "${hostname ?? ''}" is already used by another tenant`, 'hostname')
  }
  return tenantExists(id)
}

const tenantExists = (id: string) => new DomainError('conflict', 'TENANT_EXISTS', `Tenant "${id}" already exists`, 'id')

type ViewRow = { tenant: typeof tenant.$inferSelect, planLimits: unknown, planEnv: string | null }

function toView(ctx: DomainContext, { tenant: t, planLimits, planEnv }: ViewRow, stats: TenantStats | undefined): TenantView {
  const enforced = ctx.config.traefik.tenantEnforced
  return {
    id: t.id,
    hostname: t.hostname,
    is_enabled: t.isEnabled,
    created_at: formatDateTime(t.createdAt)!,
    updated_at: formatDateTime(t.updatedAt),
    plan_id: t.planId,
    limits: effectiveLimits(planLimits as LimitsMap | null, t.limits as LimitsMap | null, enforced),
    env: effectiveEnv(decryptEnv(ctx, planEnv), decryptEnv(ctx, t.envEncrypted), enforced),
    stats: stats ?? { users: 0, admins: 0, api_keys: 0, active_sessions: 0 },
    last_job_at: formatDateTime(t.lastJobAt),
  }
}

export async function listTenants(ctx: DomainContext): Promise<TenantView[]> {
  const rows = await ctx.db.select({ tenant, planLimits: plan.limits, planEnv: plan.envEncrypted })
    .from(tenant).leftJoin(plan, eq(plan.id, tenant.planId)).where(isNull(tenant.archivedAt)).orderBy(asc(tenant.id))
  const stats = await statsByProject(ctx, rows.map((row) => row.tenant.projectId))
  return rows.map((row) => toView(ctx, row, stats.get(row.tenant.projectId)))
}

/**
 * GET /tenants/{id} is the hot read of the REST surface: the tenant, its plan and its stats in
 * one round trip, a statement built once per database and prepared on the server; concurrent
 * reads beyond a few in flight share one round trip (`ids`), a lone one keeps its own (`id`).
 */
function buildTenantLookup(db: Db, batch: boolean) {
  return db.select({ tenant, planLimits: plan.limits, planEnv: plan.envEncrypted, stats: statsColumn(sql`${tenant}.${sql.identifier('project_id')}`, sql.placeholder('now')) })
    .from(tenant).leftJoin(plan, eq(plan.id, tenant.planId))
    .where(and(batch ? sql`${tenant.id} = any(${sql.placeholder('ids')}::text[])` : eq(tenant.id, sql.placeholder('id')), isNull(tenant.archivedAt)))
    .prepare(batch ? 'tenant_gateway_tenant_view_batch' : 'tenant_gateway_tenant_view')
}

type TenantLookupRow = Awaited<ReturnType<ReturnType<typeof buildTenantLookup>['execute']>>[number]

const tenantLookups = new WeakMap<Db, Coalesced<string, TenantLookupRow | undefined>>()

function tenantLookup(ctx: DomainContext): Coalesced<string, TenantLookupRow | undefined> {
  let coalesced = tenantLookups.get(ctx.db)
  if (!coalesced) {
    const one = buildTenantLookup(ctx.db, false)
    const many = buildTenantLookup(ctx.db, true)
    const now = () => ctx.clock().toISOString()
    tenantLookups.set(ctx.db, coalesced = coalescedRowByKey({
      one: async (id) => (await one.execute({ id, now: now() }))[0],
      many: (ids) => many.execute({ ids, now: now() }),
      keyOf: (row) => row.tenant.id,
      maxInFlight: 4,
      maxBatch: 64,
    }))
  }
  return coalesced
}

export async function getTenant(ctx: DomainContext, id: string): Promise<TenantView> {
  const row = await tenantLookup(ctx).call(id)
  if (!row) throw tenantNotFound(id)
  const { stats, ...rest } = row
  return toView(ctx, rest, stats)
}

/** A live (not archived) tenant row, locked for the rest of the transaction. */
export async function lockLiveTenant(tx: Tx, id: string): Promise<typeof tenant.$inferSelect> {
  const [row] = await tx.select().from(tenant).where(and(eq(tenant.id, id), isNull(tenant.archivedAt))).for('update').limit(1)
  if (!row) throw tenantNotFound(id)
  return row
}

async function requirePlan(tx: Tx, planId: string): Promise<void> {
  const [found] = await tx.select({ id: plan.id }).from(plan).where(eq(plan.id, planId)).limit(1)
  if (!found) throw planNotFound(planId)
}

export interface CreateTenantInput {
  id: unknown
  hostname: unknown
  is_enabled: unknown
  plan_id?: unknown
  limits?: unknown
  env?: unknown
}

function checkEnabled(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new DomainError('invalid_input', 'INVALID_IS_ENABLED', 'is_enabled must be true or false', 'is_enabled')
  return value
}

function checkPlanId(value: unknown): string | null {
  if (value === '' || value === null) return null
  return checkId(value, 'plan_id')
}

export async function createTenant(ctx: DomainContext, input: CreateTenantInput, actor?: Actor): Promise<TenantView> {
  return (await createTenantReporting(ctx, input, actor)).tenant
}

/** How the tenant got its project: a new one, or an existing project (made over GraphQL) adopted. */
export type TenantProjectOrigin = 'created' | 'adopted'

export async function createTenantReporting(ctx: DomainContext, input: CreateTenantInput, actor?: Actor): Promise<{ tenant: TenantView, project: TenantProjectOrigin }> {
  const id = checkId(input.id)
  const hostname = checkHostname(input.hostname)
  const isEnabled = checkEnabled(input.is_enabled)
  const planId = input.plan_id === undefined ? null : checkPlanId(input.plan_id)
  const limits = input.limits === undefined ? null : emptyToNull(checkMap(input.limits, 'limits', true))
  const env = input.env === undefined ? null : checkMap(input.env, 'env') as StringMap
  let origin: TenantProjectOrigin = 'created'
  try {
    await ctx.db.transaction(async (tx) => {
      if (planId) await requirePlan(tx, planId)
      const [existing] = await tx.select({ id: project.id, tenantId: tenant.id }).from(project)
        .leftJoin(tenant, eq(tenant.projectId, project.id)).where(eq(project.slug, id)).limit(1)
      if (existing?.tenantId) throw tenantExists(id)
      let projectId = existing?.id
      if (projectId) {
        // A project made over GraphQL gets its hosting row now.
        origin = 'adopted'
        await tx.update(project).set({ archivedAt: null, updatedAt: ctx.clock() }).where(eq(project.id, projectId))
      } else {
        ;[{ id: projectId }] = await tx.insert(project).values({ slug: id, name: id }).returning({ id: project.id })
      }
      await tx.insert(tenant).values({ id, projectId, hostname, isEnabled, planId, limits, envEncrypted: sealEnv(ctx, env) })
      await recordAudit(tx, actor, {
        type: 'tenant_create', tenantId: id, projectId,
        eventData: { hostname, is_enabled: isEnabled, plan_id: planId, limits: Object.keys(limits ?? {}), env: Object.keys(env ?? {}), adopted_project: Boolean(existing) },
      })
    })
  } catch (error) {
    throw tenantConflict(error, id, hostname, planId) ?? error
  }
  return { tenant: await getTenant(ctx, id), project: origin }
}

export interface EditTenantInput { hostname?: unknown, is_enabled?: unknown, plan_id?: unknown, limits?: unknown, env?: unknown }

/** Replaces the given fields (limits/env {} clear, plan_id "" or null detaches). */
export async function editTenant(ctx: DomainContext, id: string, input: EditTenantInput, actor?: Actor): Promise<void> {
  const given = Object.entries(input).filter(([, value]) => value !== undefined).map(([key]) => key)
  if (given.length === 0) throw new DomainError('invalid_input', 'NOTHING_TO_EDIT', 'give at least one of hostname, is_enabled, plan_id, limits, env')
  const changes: Partial<typeof tenant.$inferInsert> = { updatedAt: ctx.clock() }
  if (input.hostname !== undefined) changes.hostname = checkHostname(input.hostname)
  if (input.is_enabled !== undefined) changes.isEnabled = checkEnabled(input.is_enabled)
  if (input.plan_id !== undefined) changes.planId = checkPlanId(input.plan_id)
  if (input.limits !== undefined) changes.limits = emptyToNull(checkMap(input.limits, 'limits', true))
  if (input.env !== undefined) changes.envEncrypted = sealEnv(ctx, checkMap(input.env, 'env') as StringMap)
  try {
    await ctx.db.transaction(async (tx) => {
      const row = await lockLiveTenant(tx, id)
      if (changes.planId) await requirePlan(tx, changes.planId)
      await tx.update(tenant).set(changes).where(eq(tenant.id, id))
      await recordAudit(tx, actor, {
        type: 'tenant_edit', tenantId: id, projectId: row.projectId,
        eventData: {
          fields: given,
          hostname: changes.hostname, is_enabled: changes.isEnabled, plan_id: changes.planId,
          limits: input.limits === undefined ? undefined : Object.keys(changes.limits ?? {}),
          env: input.env === undefined ? undefined : Object.keys(input.env as object),
        },
      })
    })
  } catch (error) {
    throw tenantConflict(error, id, changes.hostname, changes.planId) ?? error
  }
}
