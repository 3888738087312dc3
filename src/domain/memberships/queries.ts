/** Reads of stored memberships, batched: one query per call whatever the number of identities or projects. */
import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm'
import type { Db, DbOrTx } from '../../db/client.js'
import { Coalesced } from '../../db/coalesced.js'
import { project, projectMembership, projectMembershipVariable, tenant } from '../../db/schema.js'
import type { ProjectRow } from '../projects/queries.js'
import type { Membership } from './types.js'

export interface StoredMembership extends Membership {
  projectId: string
  identityId: string
}

async function load(db: DbOrTx, where: ReturnType<typeof and>): Promise<StoredMembership[]> {
  const rows = await db.select({
    id: projectMembership.id,
    projectId: projectMembership.projectId,
    identityId: projectMembership.identityId,
    role: projectMembership.role,
    variable: projectMembershipVariable.variable,
    values: projectMembershipVariable.values,
  }).from(projectMembership)
    .leftJoin(projectMembershipVariable, eq(projectMembershipVariable.membershipId, projectMembership.id))
    .where(where)
    .orderBy(projectMembership.role, projectMembershipVariable.variable)
  const byId = new Map<string, StoredMembership>()
  for (const row of rows) {
    let membership = byId.get(row.id)
    if (!membership) {
      membership = { projectId: row.projectId, identityId: row.identityId, role: row.role, variables: [] }
      byId.set(row.id, membership)
    }
    if (row.variable !== null) membership.variables.push({ name: row.variable, values: row.values ?? [] })
  }
  return [...byId.values()]
}

/** Memberships of the given identities in one project. */
export function membershipsInProject(db: DbOrTx, projectId: string, identityIds: readonly string[]): Promise<StoredMembership[]> {
  if (identityIds.length === 0) return Promise.resolve([])
  return load(db, and(eq(projectMembership.projectId, projectId), inArray(projectMembership.identityId, [...new Set(identityIds)])))
}

/** Every membership in the given projects (members lists). */
export function membershipsOfProjects(db: DbOrTx, projectIds: readonly string[]): Promise<StoredMembership[]> {
  if (projectIds.length === 0) return Promise.resolve([])
  return load(db, and(inArray(projectMembership.projectId, [...new Set(projectIds)])))
}

/** Every membership of the given identities, in any project (Identity.projects). */
export function membershipsOfIdentities(db: DbOrTx, identityIds: readonly string[]): Promise<StoredMembership[]> {
  if (identityIds.length === 0) return Promise.resolve([])
  return load(db, and(inArray(projectMembership.identityId, [...new Set(identityIds)])))
}

function buildOwnProjects(db: Db, batch: boolean) {
  return db.select({
    identityId: projectMembership.identityId,
    id: project.id, slug: project.slug, name: project.name, config: project.config,
    disabled: sql<boolean>`coalesce(not ${tenant.isEnabled}, false)`.mapWith(Boolean),
    membershipId: projectMembership.id, role: projectMembership.role,
    variable: projectMembershipVariable.variable, values: projectMembershipVariable.values,
  }).from(projectMembership)
    .innerJoin(project, eq(project.id, projectMembership.projectId))
    .leftJoin(tenant, eq(tenant.projectId, project.id))
    .leftJoin(projectMembershipVariable, eq(projectMembershipVariable.membershipId, projectMembership.id))
    .where(and(
      batch
        ? sql`${projectMembership.identityId} = any(${sql.placeholder('identityIds')}::uuid[])`
        : eq(projectMembership.identityId, sql.placeholder('identityId')),
      isNull(project.archivedAt), or(isNull(tenant.id), eq(tenant.isEnabled, true)),
    ))
    .orderBy(asc(project.slug), projectMembership.role, projectMembershipVariable.variable)
    .prepare(batch ? 'tenant_gateway_own_projects_batch' : 'tenant_gateway_own_projects')
}

type OwnProjects = { project: ProjectRow, memberships: Membership[] }[]
type OwnProjectRow = Awaited<ReturnType<ReturnType<typeof buildOwnProjects>['execute']>>[number]

function toOwnProjects(rows: OwnProjectRow[]): OwnProjects {
  const projects = new Map<string, { project: ProjectRow, memberships: Membership[] }>()
  const memberships = new Map<string, Membership>()
  for (const row of rows) {
    let entry = projects.get(row.id)
    if (!entry) {
      entry = { project: { id: row.id, slug: row.slug, name: row.name, config: row.config as Record<string, unknown>, disabled: row.disabled }, memberships: [] }
      projects.set(row.id, entry)
    }
    let membership = memberships.get(row.membershipId)
    if (!membership) {
      memberships.set(row.membershipId, membership = { role: row.role, variables: [] })
      entry.memberships.push(membership)
    }
    if (row.variable !== null) membership.variables.push({ name: row.variable, values: row.values ?? [] })
  }
  return [...projects.values()]
}

/**
 * Built once per database (on the session `me` path, building the query cost more than running
 * it) and coalesced: concurrent callers beyond a few in flight share one round trip; a lone
 * identity keeps its own statement.
 */
const ownProjectQueries = new WeakMap<Db, Coalesced<string, OwnProjects>>()

/**
 * The identity's projects (live, tenant not disabled; as projectsWithMember) by slug, each with
 * the identity's memberships in it (as membershipsOfIdentities): one round trip.
 */
export async function projectsWithOwnMemberships(db: Db, identityId: string): Promise<OwnProjects> {
  let coalesced = ownProjectQueries.get(db)
  if (!coalesced) {
    const one = buildOwnProjects(db, false)
    const many = buildOwnProjects(db, true)
    ownProjectQueries.set(db, coalesced = new Coalesced({
      async run(identityIds) {
        if (identityIds.length === 1) return [toOwnProjects(await one.execute({ identityId: identityIds[0] }))]
        const byIdentity = groupBy(await many.execute({ identityIds }), (row) => row.identityId)
        return identityIds.map((id) => toOwnProjects(byIdentity.get(id) ?? []))
      },
      maxInFlight: 4,
      maxBatch: 64,
    }))
  }
  return coalesced.call(identityId)
}

export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  return groups
}

export const stripStorage = ({ role, variables }: Membership): Membership => ({ role, variables })
