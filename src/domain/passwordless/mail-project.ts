/**
 * Which project a person's sign-in mail speaks for (Contember's getPreferredProject): the only
 * project the identity belongs to, else the requested `mailProject` if it is one of them, else
 * none. Global super_admin / project_admin belong to every project (implicit membership).
 */
import { and, asc, eq, isNull } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { project, projectMembership } from '../../db/schema.js'
import { TenantRole } from '../acl/permissions.js'

export interface MailProject {
  id: string
  slug: string
  name: string
}

export async function preferredMailProject(db: DbOrTx, identityId: string, globalRoles: readonly string[], mailProject: string | null | undefined): Promise<MailProject | null> {
  const columns = { id: project.id, slug: project.slug, name: project.name }
  const everywhere = globalRoles.includes(TenantRole.SUPER_ADMIN) || globalRoles.includes(TenantRole.PROJECT_ADMIN)
  const projects = everywhere
    ? await db.select(columns).from(project).where(isNull(project.archivedAt)).orderBy(asc(project.slug))
    : await db.selectDistinct(columns).from(project)
      .innerJoin(projectMembership, eq(projectMembership.projectId, project.id))
      .where(and(eq(projectMembership.identityId, identityId), isNull(project.archivedAt)))
  if (projects.length === 1) return projects[0]
  if (mailProject) return projects.find((candidate) => candidate.slug === mailProject) ?? null
  return null
}
