/**
 * Tenant statistics computed from our own tables (Chevereto keeps a stats table refreshed by a
 * worker; ours are counted on read, one query for any number of tenants).
 */
import { sql } from 'drizzle-orm'
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
  const now = ctx.clock().toISOString()
  const ids = sql.join(projectIds.map((id) => sql`${id}::uuid`), sql`, `)
  const rows = await ctx.database.rows<{ project_id: string } & Record<keyof TenantStats, number | string>>(sql`
    select p.id as project_id,
      (select count(distinct m.identity_id) from project_membership m
         join person pe on pe.identity_id = m.identity_id where m.project_id = p.id)::int as users,
      (select count(distinct m.identity_id) from project_membership m
         join person pe on pe.identity_id = m.identity_id where m.project_id = p.id and m.role = 'admin')::int as admins,
      (select count(*) from api_key k where k.type = 'permanent' and k.disabled_at is null
         and k.identity_id in (select m.identity_id from project_membership m where m.project_id = p.id))::int as api_keys,
      (select count(*) from api_key k join person pe on pe.identity_id = k.identity_id
         where k.type = 'session' and k.disabled_at is null
           and (k.expires_at is null or k.expires_at > ${now}::timestamptz)
           and k.identity_id in (select m.identity_id from project_membership m where m.project_id = p.id))::int as active_sessions
    from project p where p.id in (${ids})`)
  for (const row of rows) {
    result.set(row.project_id, {
      users: Number(row.users), admins: Number(row.admins), api_keys: Number(row.api_keys), active_sessions: Number(row.active_sessions),
    })
  }
  return result
}
