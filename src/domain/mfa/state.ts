/**
 * Which second factors a person has switched on, and where their MFA mails go. Shared by TOTP,
 * e-mail OTP, backup codes and the admin reset, so "is MFA active" means the same everywhere.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { identity, person, personBackupCode, personMfa } from '../../db/schema.js'

/** disableOtp / disableEmailOtp when the factor is the last one and an auth policy requires MFA. */
export const MFA_REQUIRED_MESSAGE = 'An auth policy requires two-factor authentication: the last active second factor cannot be disabled.'

export interface MfaFlags {
  totp: boolean
  emailOtp: boolean
}

export async function mfaFlags(db: DbOrTx, personId: string, lock = false): Promise<MfaFlags> {
  const query = db.select({ totp: personMfa.otpActivatedAt, emailOtp: personMfa.emailOtpEnabledAt })
    .from(personMfa).where(eq(personMfa.personId, personId))
  const [row] = lock ? await query.for('update') : await query
  return { totp: Boolean(row?.totp), emailOtp: Boolean(row?.emailOtp) }
}

/** emailOtpEnabled per person id (batched for the Person type). */
export async function emailOtpEnabledByPersonIds(db: DbOrTx, personIds: readonly string[]): Promise<Map<string, boolean>> {
  if (personIds.length === 0) return new Map()
  const rows = await db.select({ personId: personMfa.personId, enabledAt: personMfa.emailOtpEnabledAt })
    .from(personMfa).where(inArray(personMfa.personId, [...new Set(personIds)]))
  return new Map(rows.map((row) => [row.personId, row.enabledAt !== null]))
}

export async function unusedBackupCodeCount(db: DbOrTx, personId: string): Promise<number> {
  const rows = await db.select({ id: personBackupCode.id }).from(personBackupCode)
    .where(and(eq(personBackupCode.personId, personId), isNull(personBackupCode.usedAt)))
  return rows.length
}

export interface MailRecipient {
  id: string
  identityId: string
  email: string | null
  roles: string[]
  disabledAt: Date | null
}

/** The person with what a mail to them needs (address, identity and roles for the mail project). */
export async function mailRecipient(db: DbOrTx, personId: string, lock = false): Promise<MailRecipient | undefined> {
  const query = db.select({ id: person.id, identityId: person.identityId, email: person.email, roles: identity.roles, disabledAt: person.disabledAt })
    .from(person).innerJoin(identity, eq(identity.id, person.identityId)).where(eq(person.id, personId))
  const [row] = lock ? await query.for('update', { of: person }) : await query
  return row
}
