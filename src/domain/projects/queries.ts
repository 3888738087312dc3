/**
 * Reads of projects. Archived projects (their tenant deleted without drop_tables) are invisible
 * here. A project whose tenant is disabled is read with `disabled: true`: its members lose it
 * (projectsWithMember leaves it out, acl/project-scope.ts hides it), global admins keep it.
 */
import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { project, projectMembership, tenant } from '../../db/schema.js'

export interface ProjectRow {
  id: string
  slug: string
  name: string
  config: Record<string, unknown>
  /** Its tenant exists and is disabled (is_enabled false). */
  disabled: boolean
}

const columns = {
  id: project.id, slug: project.slug, name: project.name, config: project.config,
  disabled: sql<boolean>`coalesce(not ${tenant.isEnabled}, false)`.mapWith(Boolean),
}
const withTenant = eq(tenant.projectId, project.id)

export async function projectBySlug(db: DbOrTx, slug: string): Promise<ProjectRow | null> {
  const [row] = await db.select(columns).from(project).leftJoin(tenant, withTenant).where(and(eq(project.slug, slug), isNull(project.archivedAt))).limit(1)
  return row ?? null
}

export async function projectsByIds(db: DbOrTx, ids: readonly string[]): Promise<Map<string, ProjectRow>> {
  if (ids.length === 0) return new Map()
  const rows = await db.select(columns).from(project).leftJoin(tenant, withTenant).where(and(inArray(project.id, [...new Set(ids)]), isNull(project.archivedAt)))
  return new Map(rows.map((row) => [row.id, row]))
}

export async function allProjects(db: DbOrTx): Promise<ProjectRow[]> {
  return db.select(columns).from(project).leftJoin(tenant, withTenant).where(isNull(project.archivedAt)).orderBy(asc(project.slug))
}

/** Projects where the identity has at least one stored membership, by slug; disabled tenants' projects are not among them. */
export async function projectsWithMember(db: DbOrTx, identityId: string): Promise<ProjectRow[]> {
  return db.selectDistinct(columns).from(project)
    .innerJoin(projectMembership, eq(projectMembership.projectId, project.id))
    .leftJoin(tenant, withTenant)
    .where(and(eq(projectMembership.identityId, identityId), isNull(project.archivedAt), or(isNull(tenant.id), eq(tenant.isEnabled, true))))
    .orderBy(asc(project.slug))
}

/** Whether a slug is taken, archived projects included (their slug stays reserved). */
export async function slugTaken(db: DbOrTx, slug: string): Promise<boolean> {
  const [row] = await db.select({ id: project.id }).from(project).where(eq(project.slug, slug)).limit(1)
  return Boolean(row)
}
