/**
 * Project members: Project.members and Identity.projects (both batched loaders: a fixed number
 * of queries per request level, whatever the number of projects or identities), the
 * projectMemberships query, and add/update/removeProjectMember. Visibility follows the caller's
 * project scope (Contember §3); global admins see everything.
 */
import { createProjectScope, hasImplicitAdmin, type ProjectScope } from '../../domain/acl/project-scope.js'
import { rolesAllow } from '../../domain/acl/permissions.js'
import { identitiesByIds, personsByIdentityIds } from '../../domain/identity/queries.js'
import { addProjectMember, removeProjectMember, storedMembershipsOf, updateProjectMember, validateMembershipUpdate } from '../../domain/memberships/members.js'
import { groupBy, membershipsOfIdentities, membershipsOfProjects, projectsWithOwnMemberships, stripStorage, type StoredMembership } from '../../domain/memberships/queries.js'
import type { Membership } from '../../domain/memberships/types.js'
import { planMembershipUpdate } from '../../domain/memberships/update.js'
import { allProjects, projectsByIds, type ProjectRow } from '../../domain/projects/queries.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess, UserInputError } from '../errors.js'
import type { IdentityRef } from './identity.js'
import { callerOf, errorPayload, okPayload, projectAndScope, projectNotFound } from './projects.js'

type MemberType = 'PERSON' | 'API_KEY'
interface MembersArgs {
  input?: { limit?: number | null, offset?: number | null, filter?: { memberType?: MemberType | null, email?: string[] | null, identityId?: string[] | null, personId?: string[] | null } | null } | null
  memberType?: MemberType | null
}

function membersFilter(args: MembersArgs) {
  if (args.memberType && args.input) throw new UserInputError('Cannot use both deprecated memberType parameter and new input parameter')
  const filter = args.input?.filter ?? {}
  const memberType = args.memberType ?? filter.memberType ?? null
  if (memberType === 'API_KEY' && filter.email) throw new UserInputError('Cannot use email filter for ApiKey member type.')
  if (memberType === 'API_KEY' && filter.personId) throw new UserInputError('Cannot use personId  filter for ApiKey member type.')
  const offset = Math.max(0, args.input?.offset ?? 0)
  const limit = args.input?.limit ?? null
  if (limit !== null && limit < 0) throw new UserInputError('limit must not be negative')
  return { memberType, email: filter.email ?? null, identityId: filter.identityId ?? null, personId: filter.personId ?? null, offset, limit }
}

/** The caller's scope in each project, from one query of its stored memberships. */
async function scopesFor(context: GraphQLContext, projects: readonly ProjectRow[]): Promise<Map<string, ProjectScope>> {
  const caller = callerOf(context)
  if (projects.length === 0) return new Map()
  const own = hasImplicitAdmin(caller.roles) ? [] : await membershipsOfIdentities(context.ctx.db, [caller.identityId])
  const byProject = groupBy(own, (m) => m.projectId)
  return new Map(projects.map((project) => [project.id, createProjectScope(caller, project, (byProject.get(project.id) ?? []).map(stripStorage))]))
}

export async function membersLoader(queries: { obj: ProjectRow, params: MembersArgs }[], context: GraphQLContext) {
  const filters = queries.map((q) => membersFilter(q.params))
  const { db } = context.ctx
  const projects = queries.map((q) => q.obj)
  const scopes = await scopesFor(context, projects)
  const viewable = projects.filter((p) => scopes.get(p.id)!.allows('project:viewMembers', { memberships: [] }))
  const stored = await membershipsOfProjects(db, viewable.map((p) => p.id))
  const identityIds = [...new Set(stored.map((m) => m.identityId))]
  const [identities, persons] = await Promise.all([identitiesByIds(db, identityIds), personsByIdentityIds(db, identityIds)])
  const byProject = groupBy(stored, (m) => m.projectId)

  return queries.map(({ obj: project }, index) => {
    const scope = scopes.get(project.id)!
    if (!viewable.includes(project)) return []
    const filter = filters[index]
    const members = [...groupBy(byProject.get(project.id) ?? [], (m) => m.identityId)].flatMap(([identityId, memberships]) => {
      const person = persons.get(identityId)
      if (filter.memberType === 'PERSON' && !person) return []
      if (filter.memberType === 'API_KEY' && person) return []
      if (filter.email && !(person?.email && filter.email.includes(person.email))) return []
      if (filter.personId && !(person && filter.personId.includes(person.id))) return []
      if (filter.identityId && !filter.identityId.includes(identityId)) return []
      const visible = scope.visible(memberships.map(stripStorage))
      if (visible.length === 0) return []
      const identity = identities.get(identityId)
      const ref: IdentityRef = { id: identityId, roles: identity?.roles ?? null, description: identity?.description ?? null }
      return [{ identity: ref, memberships: visible }]
    })
    return members.slice(filter.offset, filter.limit === null ? undefined : filter.offset + filter.limit)
  })
}

/** The caller's own effective memberships: stored ones, or admin everywhere for implicit admins. */
async function callerProjects(context: GraphQLContext): Promise<{ project: ProjectRow, memberships: Membership[] }[]> {
  const { db } = context.ctx
  const caller = callerOf(context)
  const admin = hasImplicitAdmin(caller.roles)
  const implicit = () => [{ role: 'admin', variables: [] }]
  if (!rolesAllow(caller.roles, 'project:view')) {
    // The projects where the caller is a member, read together with those memberships.
    const own = await projectsWithOwnMemberships(db, caller.identityId)
    return admin ? own.map(({ project }) => ({ project, memberships: implicit() })) : own
  }
  const [projects, memberships] = await Promise.all([allProjects(db), admin ? [] : membershipsOfIdentities(db, [caller.identityId])])
  const byProject = groupBy(memberships, (m) => m.projectId)
  return projects.map((project) => ({ project, memberships: admin ? implicit() : (byProject.get(project.id) ?? []).map(stripStorage) }))
}

/** Identity.projects: the caller's own effective memberships, or another identity's visible ones. */
export async function identityProjectsLoader(queries: { obj: IdentityRef }[], context: GraphQLContext) {
  const { db } = context.ctx
  const caller = callerOf(context)
  const others = queries.map((q) => q.obj.id).filter((id) => id !== caller.identityId)
  const needsSelf = queries.some((q) => q.obj.id === caller.identityId)
  // Independent reads: issued together so a pool runs them side by side.
  const [otherMemberships, self] = await Promise.all([membershipsOfIdentities(db, others), needsSelf ? callerProjects(context) : []])
  const projects = await projectsByIds(db, otherMemberships.map((m) => m.projectId))
  const scopes = await scopesFor(context, [...projects.values()])

  const relations = (memberships: StoredMembership[], visibleIn: (projectId: string, list: Membership[]) => Membership[]) =>
    [...groupBy(memberships, (m) => m.projectId)].flatMap(([projectId, list]) => {
      const project = projects.get(projectId)
      if (!project) return []
      const visible = visibleIn(projectId, list.map(stripStorage))
      return visible.length > 0 ? [{ project, memberships: visible }] : []
    }).sort((a, b) => a.project.slug.localeCompare(b.project.slug))

  const byIdentity = groupBy(otherMemberships, (m) => m.identityId)
  return queries.map(({ obj }) => obj.id === caller.identityId
    ? self
    : relations(byIdentity.get(obj.id) ?? [], (projectId, list) => scopes.get(projectId)!.visible(list)))
}

interface MemberArgs { projectSlug: string, identityId: string, memberships: Membership[] }

export const memberResolvers = {
  Query: {
    async projectMemberships(_: unknown, args: { projectSlug: string, identityId: string }, context: GraphQLContext): Promise<Membership[]> {
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      if (!project || !scope.allows('project:viewMembers', { memberships: [] })) return []
      return scope.visible(await storedMembershipsOf(context.ctx, project.id, args.identityId))
    },
  },
  Mutation: {
    async addProjectMember(_: unknown, args: MemberArgs, context: GraphQLContext) {
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('project:addMember', { memberships: args.memberships }), 'You are not allowed to add a project member')
      if (!project) return projectNotFound(args.projectSlug)
      const outcome = await addProjectMember(context.ctx, context.actor, project, args.identityId, args.memberships)
      return outcome.ok ? okPayload() : errorPayload(outcome.code, outcome.message, outcome.details)
    },
    async updateProjectMember(_: unknown, args: MemberArgs, context: GraphQLContext) {
      const message = 'You are not allowed to update project member variables'
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('project:updateMember', { memberships: [] }), message)
      if (!project) return projectNotFound(args.projectSlug)
      const stored = await storedMembershipsOf(context.ctx, project.id, args.identityId)
      const plan = planMembershipUpdate(stored, scope.visible(stored), args.memberships)
      requireAccess(scope.allows('project:updateMember', { memberships: plan.diff }), message)
      const invalid = validateMembershipUpdate(project, args.memberships)
      if (invalid) return errorPayload(invalid.code, invalid.message, invalid.details)
      const outcome = await updateProjectMember(context.ctx, context.actor, project, args.identityId, stored, plan)
      return outcome.ok ? okPayload() : errorPayload(outcome.code, outcome.message)
    },
    async removeProjectMember(_: unknown, args: { projectSlug: string, identityId: string }, context: GraphQLContext) {
      const message = 'You are not allowed to remove a project member'
      const { project, scope } = await projectAndScope(context, args.projectSlug)
      requireAccess(scope.allows('project:removeMember', { memberships: [] }), message)
      if (!project) return projectNotFound(args.projectSlug)
      const stored = await storedMembershipsOf(context.ctx, project.id, args.identityId)
      requireAccess(scope.allows('project:removeMember', { memberships: stored }), message)
      const outcome = await removeProjectMember(context.ctx, context.actor, project, args.identityId, stored)
      return outcome.ok ? okPayload() : errorPayload(outcome.code, outcome.message)
    },
  },
}

export const memberLoaders = {
  Identity: { projects: identityProjectsLoader },
  Project: { members: membersLoader },
}
