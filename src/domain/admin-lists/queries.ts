/**
 * The 2.2 administrative lists: persons (paginated), global API keys, a project's API keys and
 * the names of its secrets. Reads only; who may see what is decided by the surface.
 */
import { and, asc, eq, exists, inArray, isNull, notExists, sql, type SQL } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { apiKey, identity, person, project, projectMembership, projectSecret } from '../../db/schema.js'
import { personsByIdentityIds, type PersonRow } from '../identity/queries.js'
import { membershipsInProject, type StoredMembership } from '../memberships/queries.js'

export const PERSONS_DEFAULT_LIMIT = 100
export const PERSONS_MAX_LIMIT = 500

export interface PersonsFilter {
  email?: string | null
  personId?: string | null
  identityId?: string | null
}

/** Whose persons a caller may list: everyone, members of any project, or members of some projects. */
export type PersonsReach = { kind: 'all' } | { kind: 'anyProjectMember' } | { kind: 'projectMembers', projectIds: readonly string[] }

function membershipIn(projectIds?: readonly string[]): SQL {
  const conditions = [eq(projectMembership.identityId, person.identityId), isNull(project.archivedAt)]
  if (projectIds) conditions.push(inArray(projectMembership.projectId, [...projectIds]))
  return exists(sql`(select 1 from ${projectMembership} inner join ${project} on ${project.id} = ${projectMembership.projectId} where ${and(...conditions)!})`)
}

/** One page of persons, oldest first; e-mail matched case-insensitively. */
export async function listPersons(db: DbOrTx, reach: PersonsReach, filter: PersonsFilter, limit: number, offset: number): Promise<PersonRow[]> {
  if (reach.kind === 'projectMembers' && reach.projectIds.length === 0) return []
  const where: SQL[] = []
  if (reach.kind === 'anyProjectMember') where.push(membershipIn())
  if (reach.kind === 'projectMembers') where.push(membershipIn(reach.projectIds))
  if (filter.email) where.push(sql`lower(${person.email}) = ${filter.email.trim().toLowerCase()}`)
  if (filter.personId) where.push(eq(person.id, filter.personId))
  if (filter.identityId) where.push(eq(person.identityId, filter.identityId))
  const page = await db.select({ identityId: person.identityId }).from(person)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(asc(person.createdAt), asc(person.id))
    .limit(limit).offset(offset)
  const rows = await personsByIdentityIds(db, page.map((row) => row.identityId))
  return page.map((row) => rows.get(row.identityId)).filter((row): row is PersonRow => row !== undefined)
}

/** Projects (by id) in which the identity holds an `admin` membership. */
export async function projectsAdministeredBy(db: DbOrTx, identityId: string): Promise<string[]> {
  const rows = await db.selectDistinct({ projectId: projectMembership.projectId }).from(projectMembership)
    .where(and(eq(projectMembership.identityId, identityId), eq(projectMembership.role, 'admin')))
  return rows.map((row) => row.projectId)
}

export interface ApiKeyRow {
  id: string
  identity: { id: string, roles: string[], description: string | null }
  description: string | null
  type: 'PERMANENT' | 'SESSION' | 'ONE_OFF'
  enabled: boolean
  createdAt: Date
  lastUsedAt: Date | null
  expiresAt: Date | null
}

const keyColumns = {
  id: apiKey.id, type: apiKey.type, disabledAt: apiKey.disabledAt, createdAt: apiKey.createdAt, lastUsedAt: apiKey.lastUsedAt,
  expiresAt: apiKey.expiresAt, identityId: identity.id, roles: identity.roles, description: identity.description,
}

function toApiKeyRow(row: { id: string, type: string, disabledAt: Date | null, createdAt: Date, lastUsedAt: Date | null, expiresAt: Date | null, identityId: string, roles: string[], description: string | null }): ApiKeyRow {
  return {
    id: row.id,
    identity: { id: row.identityId, roles: row.roles, description: row.description },
    description: row.description,
    type: row.type.toUpperCase() as ApiKeyRow['type'],
    enabled: row.disabledAt === null,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
  }
}

const noPerson = notExists(sql`(select 1 from ${person} where ${person.identityId} = ${identity.id})`)

/** Permanent keys of identities with no person and no project membership (createGlobalApiKey's), disabled ones included. */
export async function globalApiKeys(db: DbOrTx): Promise<ApiKeyRow[]> {
  const rows = await db.select(keyColumns).from(apiKey)
    .innerJoin(identity, eq(identity.id, apiKey.identityId))
    .where(and(
      eq(apiKey.type, 'permanent'), noPerson,
      notExists(sql`(select 1 from ${projectMembership} where ${projectMembership.identityId} = ${identity.id})`),
    ))
    .orderBy(asc(apiKey.createdAt), asc(apiKey.id))
  return rows.map(toApiKeyRow)
}

/** Permanent keys whose (person-less) identity is a member of the project, with those memberships. */
export async function projectApiKeys(db: DbOrTx, projectId: string): Promise<{ key: ApiKeyRow, memberships: StoredMembership[] }[]> {
  const rows = await db.select(keyColumns).from(apiKey)
    .innerJoin(identity, eq(identity.id, apiKey.identityId))
    .where(and(
      eq(apiKey.type, 'permanent'), noPerson,
      exists(sql`(select 1 from ${projectMembership} where ${projectMembership.identityId} = ${identity.id} and ${projectMembership.projectId} = ${projectId})`),
    ))
    .orderBy(asc(apiKey.createdAt), asc(apiKey.id))
  const memberships = await membershipsInProject(db, projectId, rows.map((row) => row.identityId))
  return rows.map((row) => ({ key: toApiKeyRow(row), memberships: memberships.filter((m) => m.identityId === row.identityId) }))
}

/** Secret names and timestamps of a project; the values never leave the table here. */
export async function projectSecretNames(db: DbOrTx, projectId: string): Promise<{ key: string, createdAt: Date, updatedAt: Date }[]> {
  return db.select({ key: projectSecret.key, createdAt: projectSecret.createdAt, updatedAt: projectSecret.updatedAt })
    .from(projectSecret).where(eq(projectSecret.projectId, projectId)).orderBy(asc(projectSecret.key))
}
