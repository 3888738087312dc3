/**
 * The end of a tenant: archive (DELETE without drop_tables: hidden, hostname freed, its
 * sessions and project keys disabled, restorable) or purge (drop_tables: the project and every
 * row hanging off it, in one transaction). Persons are global and stay: they may belong to
 * other tenants.
 */
import { and, eq, isNotNull, sql } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { project, tenant } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { DomainError } from '../errors.js'
import { getTenant, tenantConflict, tenantNotFound, type TenantView } from './tenants.js'

async function lockAnyTenant(tx: Tx, id: string) {
  const [row] = await tx.select().from(tenant).where(eq(tenant.id, id)).for('update').limit(1)
  if (!row) throw tenantNotFound(id)
  return row
}

/**
 * Disables the keys that only make sense while the tenant lives: every key of the project's
 * person-less identities (project API keys), and the sessions of persons who are members of
 * no other live project.
 */
async function disableTenantKeys(ctx: DomainContext, tx: Tx, projectId: string, now: Date): Promise<number> {
  const rows = await ctx.database.rows<{ id: string }>(sql`
    update api_key k set disabled_at = ${now.toISOString()}::timestamptz
    where k.disabled_at is null
      and k.identity_id in (select m.identity_id from project_membership m where m.project_id = ${projectId}::uuid)
      and (
        not exists (select 1 from person pe where pe.identity_id = k.identity_id)
        or (k.type = 'session' and not exists (
          select 1 from project_membership o join project op on op.id = o.project_id
          where o.identity_id = k.identity_id and o.project_id <> ${projectId}::uuid and op.archived_at is null))
      )
    returning k.id`, tx)
  return rows.length
}

export async function deleteTenant(ctx: DomainContext, id: string, options: { dropTables: boolean }, actor?: Actor): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const row = await lockAnyTenant(tx, id)
    if (options.dropTables) {
      // Project API key identities that belonged to this project only go with it.
      await ctx.database.rows(sql`
        delete from identity i
        where not exists (select 1 from person pe where pe.identity_id = i.id)
          and exists (select 1 from project_membership m where m.identity_id = i.id and m.project_id = ${row.projectId}::uuid)
          and not exists (select 1 from project_membership m where m.identity_id = i.id and m.project_id <> ${row.projectId}::uuid)`, tx)
      // The tenant row, memberships, usernames, secrets and templates cascade from the project.
      await tx.delete(project).where(eq(project.id, row.projectId))
      await recordAudit(tx, actor, { type: 'tenant_purge', tenantId: id, projectId: row.projectId, eventData: { hostname: row.hostname } })
      return
    }
    if (row.archivedAt) throw tenantNotFound(id)
    const now = ctx.clock()
    await tx.update(tenant).set({ archivedAt: now, updatedAt: now }).where(eq(tenant.id, id))
    await tx.update(project).set({ archivedAt: now, updatedAt: now }).where(eq(project.id, row.projectId))
    const disabledKeys = await disableTenantKeys(ctx, tx, row.projectId, now)
    await recordAudit(tx, actor, { type: 'tenant_archive', tenantId: id, projectId: row.projectId, eventData: { hostname: row.hostname, disabled_keys: disabledKeys } })
  })
}

/** Brings an archived tenant back; its hostname must still be free. */
export async function restoreTenant(ctx: DomainContext, id: string, actor?: Actor): Promise<TenantView> {
  let hostname: string | undefined
  try {
    await ctx.db.transaction(async (tx) => {
      const row = await lockAnyTenant(tx, id)
      hostname = row.hostname
      if (!row.archivedAt) throw new DomainError('conflict', 'TENANT_NOT_ARCHIVED', `Tenant "${id}" is not deleted`, 'id')
      const now = ctx.clock()
      await tx.update(tenant).set({ archivedAt: null, updatedAt: now }).where(and(eq(tenant.id, id), isNotNull(tenant.archivedAt)))
      await tx.update(project).set({ archivedAt: null, updatedAt: now }).where(eq(project.id, row.projectId))
      await recordAudit(tx, actor, { type: 'tenant_restore', tenantId: id, projectId: row.projectId, eventData: { hostname: row.hostname } })
    })
  } catch (error) {
    throw tenantConflict(error, id, hostname) ?? error
  }
  return getTenant(ctx, id)
}
