/**
 * The end of a tenant: archive (DELETE without drop_tables: hidden, hostname freed, its
 * sessions and project keys disabled, restorable) or purge (drop_tables, one transaction): the
 * project and every row hanging off it (memberships, usernames, secrets, mail templates, project
 * API key identities and their keys, the tenant row), the project's mails in the outbox, and the
 * tenant's audit events (deleted, not anonymised: they name its people, addresses and agents).
 * One `tenant_purge` event remains, with the tenant id and counts only. Persons are global and
 * stay; those left with no membership in any project (and no global role beyond `person`) are
 * disabled and their keys ended.
 */
import { and, eq, isNotNull, or, sql } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { auditEvent, mailOutbox, project, tenant } from '../../db/schema.js'
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

/** Disables the project's member persons that belong nowhere else, with all their keys; returns how many. */
async function disableOrphanedMembers(ctx: DomainContext, tx: Tx, projectId: string, now: Date): Promise<number> {
  const orphans = await ctx.database.rows<{ id: string, identity_id: string }>(sql`
    update person pe set disabled_at = coalesce(pe.disabled_at, ${now.toISOString()}::timestamptz)
    from identity i
    where i.id = pe.identity_id
      and i.roles <@ '["person"]'::jsonb
      and exists (select 1 from project_membership m where m.identity_id = pe.identity_id and m.project_id = ${projectId}::uuid)
      and not exists (select 1 from project_membership m where m.identity_id = pe.identity_id and m.project_id <> ${projectId}::uuid)
    returning pe.id, pe.identity_id`, tx)
  if (orphans.length > 0) {
    const identities = sql.join(orphans.map((o) => sql`${o.identity_id}::uuid`), sql`, `)
    await ctx.database.rows(sql`update api_key set disabled_at = ${now.toISOString()}::timestamptz
      where disabled_at is null and identity_id in (${identities})`, tx)
  }
  return orphans.length
}

async function purgeTenant(ctx: DomainContext, tx: Tx, row: typeof tenant.$inferSelect, actor?: Actor): Promise<void> {
  const now = ctx.clock()
  const disabledPersons = await disableOrphanedMembers(ctx, tx, row.projectId, now)
  // Project API key identities that belonged to this project only go with it.
  await ctx.database.rows(sql`
    delete from identity i
    where not exists (select 1 from person pe where pe.identity_id = i.id)
      and exists (select 1 from project_membership m where m.identity_id = i.id and m.project_id = ${row.projectId}::uuid)
      and not exists (select 1 from project_membership m where m.identity_id = i.id and m.project_id <> ${row.projectId}::uuid)`, tx)
  await tx.delete(mailOutbox).where(eq(mailOutbox.projectId, row.projectId))
  const purgedEvents = await tx.delete(auditEvent)
    .where(or(eq(auditEvent.tenantId, row.id), eq(auditEvent.projectId, row.projectId)))
    .returning({ id: auditEvent.id })
  // The tenant row, memberships, usernames, secrets and templates cascade from the project.
  await tx.delete(project).where(eq(project.id, row.projectId))
  await recordAudit(tx, actor, {
    type: 'tenant_purge', tenantId: row.id,
    eventData: { purged_audit_events: purgedEvents.length, disabled_persons: disabledPersons },
  })
}

export async function deleteTenant(ctx: DomainContext, id: string, options: { dropTables: boolean }, actor?: Actor): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const row = await lockAnyTenant(tx, id)
    if (options.dropTables) return purgeTenant(ctx, tx, row, actor)
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
