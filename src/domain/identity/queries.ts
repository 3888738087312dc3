/** Reads of persons and identities, batched where resolvers need them. */
import { eq, inArray, sql } from 'drizzle-orm'
import type { Db, DbOrTx } from '../../db/client.js'
import { identity, person, personMfa } from '../../db/schema.js'

export interface PersonRow {
  id: string
  identityId: string
  email: string | null
  name: string | null
  otpEnabled: boolean
  passwordlessEnabled: boolean | null
  disabledAt: Date | null
}

const personColumns = {
  id: person.id,
  identityId: person.identityId,
  email: person.email,
  name: person.name,
  passwordlessEnabled: person.passwordlessEnabled,
  disabledAt: person.disabledAt,
  otpActivatedAt: personMfa.otpActivatedAt,
}

function toPersonRow(row: { otpActivatedAt: Date | null } & Omit<PersonRow, 'otpEnabled'>): PersonRow {
  const { otpActivatedAt, ...rest } = row
  return { ...rest, otpEnabled: otpActivatedAt !== null }
}

function buildPersonByIdentity(db: Db) {
  return db.select(personColumns).from(person)
    .leftJoin(personMfa, eq(personMfa.personId, person.id))
    .where(eq(person.identityId, sql.placeholder('identityId')))
    .prepare('tenant_gateway_person_by_identity')
}

/** Identity.person of `me` runs on every session request: that one-id lookup is built once per database. */
const personByIdentityQueries = new WeakMap<DbOrTx, ReturnType<typeof buildPersonByIdentity>>()

export async function personsByIdentityIds(db: DbOrTx, identityIds: readonly string[]): Promise<Map<string, PersonRow>> {
  const ids = [...new Set(identityIds)]
  if (ids.length === 0) return new Map()
  let rows
  if (ids.length === 1) {
    let query = personByIdentityQueries.get(db)
    if (!query) personByIdentityQueries.set(db, query = buildPersonByIdentity(db as Db))
    rows = await query.execute({ identityId: ids[0] })
  } else {
    rows = await db.select(personColumns).from(person)
      .leftJoin(personMfa, eq(personMfa.personId, person.id))
      .where(inArray(person.identityId, ids))
  }
  return new Map(rows.map((row) => [row.identityId, toPersonRow(row)]))
}

export async function personById(db: DbOrTx, personId: string): Promise<PersonRow | undefined> {
  const [row] = await db.select(personColumns).from(person)
    .leftJoin(personMfa, eq(personMfa.personId, person.id))
    .where(eq(person.id, personId)).limit(1)
  return row && toPersonRow(row)
}

export async function identitiesByIds(db: DbOrTx, ids: readonly string[]): Promise<Map<string, { id: string, roles: string[], description: string | null }>> {
  if (ids.length === 0) return new Map()
  const rows = await db.select({ id: identity.id, roles: identity.roles, description: identity.description })
    .from(identity).where(inArray(identity.id, [...new Set(ids)]))
  return new Map(rows.map((row) => [row.id, row]))
}

/** UUID shape check: ids from clients are validated before they reach a uuid column. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
