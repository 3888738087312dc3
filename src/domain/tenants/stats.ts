/**
 * Tenant statistics computed from our own tables (Chevereto keeps a stats table refreshed by a
 * worker; ours are counted on read, one query for any number of tenants). statsColumns are the
 * same counts as columns of another select (one tenant's read in one round trip).
 */
import { inArray, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import { project } from '../../db/schema.js'
import type { DomainContext } from '../context.js'

export interface TenantStats {
  /** Members that are persons, not project API keys (what CHEVERETO_MAX_USERS counts). */
  users: number
  /** Persons with the admin role (what CHEVERETO_MAX_ADMINS counts; project API keys are not admins here). */
  admins: number
  /** Enabled permanent API keys of the tenant's members. */
  api_keys: number
  /** Unexpired, enabled sign-in sessions of the tenant's persons. */
  active_sessions: number
}

export async function statsByProject(ctx: DomainContext, projectIds: string[]): Promise<Map<string, TenantStats>> {
  const result = new Map<string, TenantStats>()
  if (projectIds.length === 0) return result
  const rows = await ctx.db.select({ projectId: project.id, ...statsColumns(sql`${project}.${sql.identifier('id')}`, ctx.clock().toISOString()) })
    .from(project).where(inArray(project.id, projectIds))
  for (const { projectId, ...stats } of rows) result.set(projectId, stats)
  return result
}

/**
 * The four counts for the project `projectId`, as select fields; `now` is an ISO timestamp. Give
 * the column table-qualified: Drizzle leaves columns unqualified in a one-table select, and a
 * bare name would bind inside the subqueries.
 */
export function statsColumns(projectId: SQLWrapper, now: SQLWrapper | string): Record<keyof TenantStats, SQL.Aliased<number>> {
  const members = sql`(select m.identity_id from project_membership m where m.project_id = ${projectId})`
  return {
    users: sql<number>`(select count(distinct m.identity_id) from project_membership m
      join person pe on pe.identity_id = m.identity_id where m.project_id = ${projectId})::int`.mapWith(Number).as('users'),
    admins: sql<number>`(select count(distinct m.identity_id) from project_membership m
      join person pe on pe.identity_id = m.identity_id where m.project_id = ${projectId} and m.role = 'admin')::int`.mapWith(Number).as('admins'),
    api_keys: sql<number>`(select count(*) from api_key k where k.type = 'permanent' and k.disabled_at is null
      and k.identity_id in ${members})::int`.mapWith(Number).as('api_keys'),
    active_sessions: sql<number>`(select count(*) from api_key k join person pe on pe.identity_id = k.identity_id
      where k.type = 'session' and k.disabled_at is null and (k.expires_at is null or k.expires_at > ${now}::timestamptz)
      and k.identity_id in ${members})::int`.mapWith(Number).as('active_sessions'),
  }
}
