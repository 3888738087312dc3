/**
 * The 2.2 administrative lists: `persons`, `globalApiKeys`, `Project.apiKeys`, `Project.secrets`.
 * Each answers an empty list (never an error) to a caller who may not see it, as 2.2 documents.
 * `persons`: person:list (super_admin) sees everyone; a global project_admin, members of any
 * project; a project's `admin` member, that project's members. ACL `tenant.view` rules do not
 * widen `persons` (they apply to Project.members, where variables can be matched per membership).
 */
import { loadProjectScope } from '../../domain/acl/project-scope.js'
import { rolesAllow, TenantRole } from '../../domain/acl/permissions.js'
import {
  globalApiKeys, listPersons, PERSONS_DEFAULT_LIMIT, PERSONS_MAX_LIMIT, projectApiKeys, projectsAdministeredBy, projectSecretNames,
  type PersonsFilter, type PersonsReach,
} from '../../domain/admin-lists/queries.js'
import type { ProjectRow } from '../../domain/projects/queries.js'
import type { GraphQLContext } from '../context.js'
import { pageOf, uuidFilter } from './pagination.js'
import { callerOf } from './projects.js'

async function personsReach(context: GraphQLContext): Promise<PersonsReach> {
  const { roles, identityId } = context.auth
  if (rolesAllow(roles, 'person:list')) return { kind: 'all' }
  if (roles.includes(TenantRole.PROJECT_ADMIN)) return { kind: 'anyProjectMember' }
  return { kind: 'projectMembers', projectIds: await projectsAdministeredBy(context.ctx.db, identityId) }
}

interface PersonsArgs { filter?: PersonsFilter | null, limit?: number | null, offset?: number | null }

export const adminListResolvers = {
  Query: {
    async persons(_: unknown, args: PersonsArgs, context: GraphQLContext) {
      const { limit, offset } = pageOf(args, PERSONS_DEFAULT_LIMIT, PERSONS_MAX_LIMIT)
      const filter = args.filter ?? {}
      const checked: PersonsFilter = {
        email: filter.email,
        personId: uuidFilter(filter.personId, 'filter.personId'),
        identityId: uuidFilter(filter.identityId, 'filter.identityId'),
      }
      return listPersons(context.ctx.db, await personsReach(context), checked, limit, offset)
    },
    async globalApiKeys(_: unknown, __: unknown, context: GraphQLContext) {
      return rolesAllow(context.auth.roles, 'apiKey:list') ? globalApiKeys(context.ctx.db) : []
    },
  },
  Project: {
    /** Keys whose memberships the caller may view (project.viewMembers, matched per membership). */
    async apiKeys(project: ProjectRow, _: unknown, context: GraphQLContext) {
      const scope = await loadProjectScope(context.ctx.db, callerOf(context), project)
      if (!scope.allows('project:viewMembers')) return []
      const keys = await projectApiKeys(context.ctx.db, project.id)
      return keys.filter(({ memberships }) => scope.allows('project:viewMembers', { memberships })).map(({ key }) => key)
    },
    /** project:viewSecrets: the project's admins (implicit for super_admin and global project_admin). */
    async secrets(project: ProjectRow, _: unknown, context: GraphQLContext) {
      const scope = await loadProjectScope(context.ctx.db, callerOf(context), project)
      const isAdmin = scope.memberships.some((membership) => membership.role === 'admin')
      return isAdmin || scope.allows('project:setSecret') ? projectSecretNames(context.ctx.db, project.id) : []
    },
  },
}
