/**
 * Project.tenant (tenant-gateway extension): the hosting facts of a project that is a tenant,
 * for its admins and global admins; null for everyone else and for projects without a tenant.
 * A loader: one query for the caller's memberships, one for the tenants, one for the counts.
 */
import { hasImplicitAdmin } from '../../domain/acl/project-scope.js'
import { membershipsOfIdentities } from '../../domain/memberships/queries.js'
import type { ProjectRow } from '../../domain/projects/queries.js'
import { tenantInfoByProjects, type TenantInfo } from '../../domain/tenants/info.js'
import type { GraphQLContext } from '../context.js'
import { callerOf } from './projects.js'

async function tenantLoader(queries: { obj: ProjectRow }[], context: GraphQLContext): Promise<(TenantInfo | null)[]> {
  const caller = callerOf(context)
  const globalAdmin = hasImplicitAdmin(caller.roles)
  const adminOf = new Set(globalAdmin ? [] : (await membershipsOfIdentities(context.ctx.db, [caller.identityId]))
    .filter((membership) => membership.role === 'admin').map((membership) => membership.projectId))
  const visible = queries.map((q) => q.obj).filter((project) => globalAdmin || (adminOf.has(project.id) && !project.disabled))
  const infos = await tenantInfoByProjects(context.ctx, visible.map((project) => project.id))
  return queries.map(({ obj }) => (visible.includes(obj) ? infos.get(obj.id) ?? null : null))
}

export const tenantInfoLoaders = {
  Project: { tenant: tenantLoader },
}
