/** Reads of projects. Archived projects (their tenant deleted without drop_tables) are invisible here. */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { project, projectMembership } from '../../db/schema.js'

export interface ProjectRow {
  id: string
  slug: string
  name: string
  config: Record<string, unknown>
}

const columns = { id: project.id, slug: project.slug, name: project.name, config: project.config }

export async function projectBySlug(db: DbOrTx, slug: string): Promise<ProjectRow | null> {
  const [row] = await db.select(columns).from(project).where(and(eq(project.slug, slug), isNull(project.archivedAt))).limit(1)
  return row ?? null
}

export async function projectsByIds(db: DbOrTx, ids: readonly string[]): Promise<Map<string, ProjectRow>> {
  if (ids.length === 0) return new Map()
  const rows = await db.select(columns).from(project).where(and(inArray(project.id, [...new Set(ids)]), isNull(project.archivedAt)))
  return new Map(rows.map((row) => [row.id, row]))
}

export async function allProjects(db: DbOrTx): Promise<ProjectRow[]> {
  return db.select(columns).from(project).where(isNull(project.archivedAt)).orderBy(asc(project.slug))
}

/** Projects where the identity has at least one stored membership, by slug. */
export async function projectsWithMember(db: DbOrTx, identityId: string): Promise<ProjectRow[]> {
  return db.selectDistinct(columns).from(project)
    .innerJoin(projectMembership, eq(projectMembership.projectId, project.id))
    .where(and(eq(projectMembership.identityId, identityId), isNull(project.archivedAt)))
    .orderBy(asc(project.slug))
}

/** Whether a slug is taken, archived projects included (their slug stays reserved). */
export async function slugTaken(db: DbOrTx, slug: string): Promise<boolean> {
  const [row] = await db.select({ id: project.id }).from(project).where(eq(project.slug, slug)).limit(1)
  return Boolean(row)
}
