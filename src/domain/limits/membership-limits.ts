/**
 * Plan limits on the people of a tenant (DESIGN.md §1): the counts they apply to and the check
 * that runs inside every transaction that grows a project's memberships (grantMemberships).
 *
 *   CHEVERETO_MAX_USERS   persons with at least one membership in the tenant's project
 *   CHEVERETO_MAX_ADMINS  persons with an `admin` membership in it
 *
 * Project API keys (identities without a person) are not people and count for neither. A limit
 * of `0`, a missing key or a value that is not a whole number means unlimited. The effective
 * value is the plan ⊕ tenant ⊕ TENANT_ENFORCED merge the REST surface shows (effectiveLimits).
 *
 * Races: the tenant row is locked (SELECT … FOR UPDATE) before counting, so concurrent grants in
 * one project run one after the other and two invites at the last free seat cannot both win.
 */
import { eq, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { person, plan, projectMembership, tenant } from '../../db/schema.js'
import { DomainError } from '../errors.js'
import { effectiveLimits, type LimitsMap, type StringMap } from '../tenants/values.js'

export const LIMIT_KEYS = { users: 'CHEVERETO_MAX_USERS', admins: 'CHEVERETO_MAX_ADMINS' } as const

export type UsageKind = keyof typeof LIMIT_KEYS

/** The counts the limits apply to. */
export type TenantUsage = Record<UsageKind, number>

/** TENANT_ENFORCED values (config.traefik.tenantEnforced); its limit-like keys win over plan and tenant. */
export type EnforcedValues = Readonly<StringMap>

export class LimitExceededError extends DomainError {
  constructor(readonly key: string, readonly limit: number) {
    super('limit_exceeded', 'LIMIT_EXCEEDED', `${key}: the tenant's limit of ${limit} is reached`, key)
    this.name = 'LimitExceededError'
  }
}

/** A limit value as a number of seats; null when unlimited (0, absent or not a whole number). */
export function parseLimit(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null
  const limit = Number(value)
  return limit > 0 && Number.isSafeInteger(limit) ? limit : null
}

/** Usage of one project, counted on the given connection (inside the caller's transaction). */
export async function countUsage(db: DbOrTx, projectId: string): Promise<TenantUsage> {
  const [row] = await db.select({
    users: sql<number>`count(distinct ${projectMembership.identityId})::int`,
    admins: sql<number>`(count(distinct ${projectMembership.identityId}) filter (where ${projectMembership.role} = 'admin'))::int`,
  }).from(projectMembership)
    .innerJoin(person, eq(person.identityId, projectMembership.identityId))
    .where(eq(projectMembership.projectId, projectId))
  return { users: Number(row?.users ?? 0), admins: Number(row?.admins ?? 0) }
}

/**
 * Locks the tenant of a project and returns its effective limits, or null for a project without
 * a tenant (a project made over GraphQL has no plan and no limits).
 */
export async function lockTenantLimits(db: DbOrTx, projectId: string, enforced: EnforcedValues): Promise<StringMap | null> {
  const [row] = await db.select({ own: tenant.limits, planLimits: plan.limits }).from(tenant)
    .leftJoin(plan, eq(plan.id, tenant.planId))
    .where(eq(tenant.projectId, projectId))
    .for('update', { of: tenant })
  if (!row) return null
  return effectiveLimits(row.planLimits as LimitsMap | null, row.own as LimitsMap | null, enforced)
}

/**
 * Runs `grow` (the membership writes) under the tenant lock and refuses the whole transaction
 * with LimitExceededError when it raised a count beyond its limit. A count that was already over
 * (the plan was downgraded) does not block changes that leave it where it is.
 */
export async function withinMembershipLimits<T>(db: DbOrTx, projectId: string, enforced: EnforcedValues, grow: () => Promise<T>): Promise<T> {
  const limits = await lockTenantLimits(db, projectId, enforced)
  const seats = limits && Object.entries(LIMIT_KEYS)
    .map(([kind, key]) => ({ kind: kind as UsageKind, key, limit: parseLimit(limits[key]) }))
    .filter((seat): seat is { kind: UsageKind, key: typeof LIMIT_KEYS[UsageKind], limit: number } => seat.limit !== null)
  if (!seats || seats.length === 0) return grow()
  const before = await countUsage(db, projectId)
  const result = await grow()
  const after = await countUsage(db, projectId)
  for (const seat of seats) {
    if (after[seat.kind] > before[seat.kind] && after[seat.kind] > seat.limit) throw new LimitExceededError(seat.key, seat.limit)
  }
  return result
}
