/** Reads of stored memberships, batched: one query per call whatever the number of identities or projects. */
import { and, eq, inArray } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { projectMembership, projectMembershipVariable } from '../../db/schema.js'
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
