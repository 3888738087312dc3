/**
 * Tenant plans: defaults of limits and env that tenants on the plan inherit. env is encrypted at
 * rest and decrypted only on the way out. Deleting a plan detaches its tenants (FK SET NULL).
 */
import { asc, eq } from 'drizzle-orm'
import { plan } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { DomainError } from '../errors.js'
import { constraintViolation } from '../tenants/constraint.js'
import { checkId, checkMap, emptyToNull, formatDateTime, type StringMap } from '../tenants/values.js'

export interface PlanView {
  id: string
  created_at: string
  updated_at: string | null
  limits: StringMap
  env: StringMap
}

type PlanRow = typeof plan.$inferSelect

export function decryptEnv(ctx: DomainContext, sealed: string | null): StringMap {
  return sealed ? ctx.encryption.decryptJson<StringMap>(sealed) : {}
}

export function sealEnv(ctx: DomainContext, env: StringMap | null | undefined): string | null {
  const map = emptyToNull(env)
  return map ? ctx.encryption.encryptJson(map) : null
}

function view(ctx: DomainContext, row: PlanRow): PlanView {
  return {
    id: row.id,
    created_at: formatDateTime(row.createdAt)!,
    updated_at: formatDateTime(row.updatedAt),
    limits: (row.limits ?? {}) as StringMap,
    env: decryptEnv(ctx, row.envEncrypted),
  }
}

const notFound = (id: string) => new DomainError('not_found', 'PLAN_NOT_FOUND', `Tenant plan "${id}" not found`, 'id')

export interface PlanInput { id: unknown, limits?: unknown, env?: unknown }

export async function createPlan(ctx: DomainContext, input: PlanInput, actor?: Actor): Promise<PlanView> {
  const id = checkId(input.id)
  const limits = input.limits === undefined ? null : emptyToNull(checkMap(input.limits, 'limits'))
  const env = input.env === undefined ? null : checkMap(input.env, 'env') as StringMap
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx.insert(plan).values({ id, limits, envEncrypted: sealEnv(ctx, env) }).returning()
      await recordAudit(tx, actor, { type: 'tenants_plan_create', eventData: { id, limits: Object.keys(limits ?? {}), env: Object.keys(env ?? {}) } })
      return view(ctx, row)
    })
  } catch (error) {
    if (constraintViolation(error)?.kind === 'unique') throw new DomainError('conflict', 'PLAN_EXISTS', `Tenant plan "${id}" already exists`, 'id')
    throw error
  }
}

export async function getPlan(ctx: DomainContext, id: string): Promise<PlanView> {
  const [row] = await ctx.db.select().from(plan).where(eq(plan.id, id)).limit(1)
  if (!row) throw notFound(id)
  return view(ctx, row)
}

export async function listPlans(ctx: DomainContext): Promise<PlanView[]> {
  const rows = await ctx.db.select().from(plan).orderBy(asc(plan.id))
  return rows.map((row) => view(ctx, row))
}

/** Replaces limits and/or env ({} clears); at least one must be given. */
export async function editPlan(ctx: DomainContext, id: string, input: { limits?: unknown, env?: unknown }, actor?: Actor): Promise<void> {
  if (input.limits === undefined && input.env === undefined) {
    throw new DomainError('invalid_input', 'NOTHING_TO_EDIT', 'give limits and/or env', 'limits')
  }
  const changes: Partial<typeof plan.$inferInsert> = { updatedAt: ctx.clock() }
  if (input.limits !== undefined) changes.limits = emptyToNull(checkMap(input.limits, 'limits'))
  if (input.env !== undefined) changes.envEncrypted = sealEnv(ctx, checkMap(input.env, 'env') as StringMap)
  await ctx.db.transaction(async (tx) => {
    const updated = await tx.update(plan).set(changes).where(eq(plan.id, id)).returning({ id: plan.id })
    if (updated.length === 0) throw notFound(id)
    await recordAudit(tx, actor, {
      type: 'tenants_plan_edit',
      eventData: { id, limits: input.limits === undefined ? undefined : Object.keys(changes.limits ?? {}), env: input.env === undefined ? undefined : Object.keys(input.env as object) },
    })
  })
}

export async function deletePlan(ctx: DomainContext, id: string, actor?: Actor): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const deleted = await tx.delete(plan).where(eq(plan.id, id)).returning({ id: plan.id })
    if (deleted.length === 0) throw notFound(id)
    await recordAudit(tx, actor, { type: 'tenants_plan_delete', eventData: { id } })
  })
}
