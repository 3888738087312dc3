/**
 * Person lookups for the write paths: the public PersonRow plus what those paths need (password
 * hash, the identity's global roles, TOTP state). E-mail lookup is Contember's: the exact string
 * first, then the normalized one, so rows written un-normalized by older systems still match.
 */
import { eq, inArray, or, sql, type SQL } from 'drizzle-orm'
import type { Db, DbOrTx } from '../../db/client.js'
import { identity, person, personMfa } from '../../db/schema.js'
import { normalizeEmail } from './email.js'
import { UUID, type PersonRow } from './queries.js'
import type { fail } from '../errors.js'

export interface PersonRecord extends PersonRow {
  passwordHash: string | null
  /** The identity's global roles (what permission checks on the target use). */
  roles: string[]
}

const recordColumns = {
  id: person.id, identityId: person.identityId, email: person.email, name: person.name,
  passwordlessEnabled: person.passwordlessEnabled, disabledAt: person.disabledAt, passwordHash: person.passwordHash,
  roles: identity.roles, otpActivatedAt: personMfa.otpActivatedAt,
}

async function selectPersons(db: DbOrTx, where: SQL, forUpdate: boolean): Promise<PersonRecord[]> {
  const query = db.select(recordColumns).from(person)
    .innerJoin(identity, eq(identity.id, person.identityId))
    .leftJoin(personMfa, eq(personMfa.personId, person.id))
    .where(where)
  const rows = forUpdate ? await query.for('update', { of: person }) : await query
  return rows.map(({ otpActivatedAt, ...rest }) => ({ ...rest, otpEnabled: otpActivatedAt !== null }))
}

export async function findPersonByEmail(db: DbOrTx, email: string, forUpdate = false): Promise<PersonRecord | undefined> {
  const candidates = [...new Set([email, normalizeEmail(email)])]
  const rows = await selectPersons(db, inArray(person.email, candidates), forUpdate)
  return rows.find((row) => row.email === email) ?? rows[0]
}

/** A sign-in's person, with the lockout counters signIn checks before the password. */
export interface SignInCandidate extends PersonRecord {
  lockout: { failures: number, lastAt: Date | null }
}

function buildSignInLookup(db: Db) {
  return db.select({ ...recordColumns, failures: person.failedSignIns, lastFailedAt: person.lastFailedSignInAt }).from(person)
    .innerJoin(identity, eq(identity.id, person.identityId))
    .leftJoin(personMfa, eq(personMfa.personId, person.id))
    .where(or(eq(person.email, sql.placeholder('email')), eq(person.email, sql.placeholder('normalized'))))
    .prepare('tenant_gateway_sign_in_person')
}

const signInLookups = new WeakMap<Db, ReturnType<typeof buildSignInLookup>>()

/** findPersonByEmail for signIn (same match rule), as one prepared statement that also reads the lockout counters. */
export async function findSignInCandidate(db: Db, email: string): Promise<SignInCandidate | undefined> {
  let lookup = signInLookups.get(db)
  if (!lookup) signInLookups.set(db, lookup = buildSignInLookup(db))
  const rows = await lookup.execute({ email, normalized: normalizeEmail(email) })
  const row = rows.find((candidate) => candidate.email === email) ?? rows[0]
  if (!row) return undefined
  const { otpActivatedAt, failures, lastFailedAt, ...rest } = row
  return { ...rest, otpEnabled: otpActivatedAt !== null, lockout: { failures, lastAt: lastFailedAt } }
}

/** A missing or malformed id is simply "not found" (never a database error). */
export async function findPersonById(db: DbOrTx, personId: string, forUpdate = false): Promise<PersonRecord | undefined> {
  if (!UUID.test(personId)) return undefined
  return (await selectPersons(db, eq(person.id, personId), forUpdate))[0]
}

export async function findPersonByIdentity(db: DbOrTx, identityId: string, forUpdate = false): Promise<PersonRecord | undefined> {
  return (await selectPersons(db, eq(person.identityId, identityId), forUpdate))[0]
}

/** Whether another person already uses the address (exact or normalized form). */
export async function emailInUse(db: DbOrTx, email: string, exceptPersonId?: string): Promise<boolean> {
  const candidates = [...new Set([email, normalizeEmail(email)])]
  const rows = await db.select({ id: person.id }).from(person).where(inArray(person.email, candidates))
  return rows.some((row) => row.id !== exceptPersonId)
}

/** The public shape handed to resolvers (no hash, no roles, no TOTP secret). */
export function toPersonRow(record: PersonRecord): PersonRow {
  const { passwordHash: _hash, roles: _roles, ...row } = record
  if ('lockout' in row) delete row.lockout
  return row
}

/** PostgreSQL's unique_violation, whichever driver raised it. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string, cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code
  return code === '23505'
}

/**
 * A permission check on the target person, supplied by the surface: it throws when the caller
 * may not act on a person with these global roles. Domain functions call it at the point where
 * Contember checks access, so the order of errors stays Contember's.
 */
export type AuthorizeTarget = (targetRoles: readonly string[]) => void

/** The failure half of a use case's result: Contember's error code and developer message. */
export type Failure<C extends string> = ReturnType<typeof fail<C>>
