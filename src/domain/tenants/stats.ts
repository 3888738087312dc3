/**
 * Tenant statistics computed from our own tables (Chevereto keeps a stats table refreshed by a
 * worker; ours are counted on read, one query for any number of tenants). statsColumn is the
 * same counts as a column of another select (one tenant's read in one round trip).
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
  const rows = await ctx.db.select({ projectId: project.id, stats: statsColumn(sql`${project}.${sql.identifier('id')}`, ctx.clock().toISOString()) })
    .from(project).where(inArray(project.id, projectIds))
  for (const { projectId, stats } of rows) result.set(projectId, stats)
  return result
}

/**
 * The four counts for the project `projectId` as one select field; `now` is an ISO timestamp.
 * One subquery walks the project's members once (each member's person and keys by index) and
 * returns the counts as an int array: a quarter of the buffer reads of four separate counts,
 * which GET /tenants/{id} pays on every call. Give the column table-qualified: Drizzle leaves
 * columns unqualified in a one-table select, and a bare name would bind inside the subquery.
 */
export function statsColumn(projectId: SQLWrapper, now: SQLWrapper | string): SQL.Aliased<TenantStats> {
  return sql<TenantStats>`(select array[
      count(*) filter (where member.is_person),
      count(*) filter (where member.is_person and member.is_admin),
      coalesce(sum(keys.permanent), 0),
      coalesce(sum(keys.sessions) filter (where member.is_person), 0)
    ]::int[]
    from (
      select m.identity_id, bool_or(m.role = 'admin') as is_admin,
        exists (select 1 from person pe where pe.identity_id = m.identity_id) as is_person
      from project_membership m where m.project_id = ${projectId} group by m.identity_id
    ) member
    left join lateral (
      select count(*) filter (where k.type = 'permanent') as permanent,
        count(*) filter (where k.type = 'session' and (k.expires_at is null or k.expires_at > ${now}::timestamptz)) as sessions
      from api_key k where k.identity_id = member.identity_id and k.disabled_at is null
    ) keys on true)`.mapWith(toStats).as('stats')
}

function toStats(value: unknown): TenantStats {
  const [users, admins, api_keys, active_sessions] = (value as number[] | null) ?? [0, 0, 0, 0]
  return { users, admins, api_keys, active_sessions }
}
