/**
 * resetPersonMfa (2.2, admin): switches every second factor of a person off (TOTP secret,
 * e-mail OTP and its pending codes, backup codes), e.g. after a lost phone. Audited `mfa_reset`
 * with what was cleared. Sessions stay: the person proved both factors when they signed in.
 */
import { and, eq } from 'drizzle-orm'
import { personMfa, personToken } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { findPersonById, type AuthorizeTarget } from '../identity/persons.js'
import { deleteBackupCodes } from './backup-codes.js'
import { EMAIL_OTP_TOKEN_TYPE } from './email-otp.js'
import { mfaFlags } from './state.js'

export async function resetPersonMfa(ctx: DomainContext, actor: Actor, personId: string, authorize: AuthorizeTarget): Promise<Result<null, 'PERSON_NOT_FOUND'>> {
  return ctx.db.transaction(async (tx) => {
    const target = await findPersonById(tx, personId, true)
    if (!target) return fail('PERSON_NOT_FOUND', `Person <${personId}> was not found`)
    authorize(target.roles)
    const before = await mfaFlags(tx, target.id, true)
    await tx.update(personMfa)
      .set({ otpUriEncrypted: null, otpActivatedAt: null, otpLastStep: null, emailOtpEnabledAt: null, updatedAt: ctx.clock() })
      .where(eq(personMfa.personId, target.id))
    await tx.delete(personToken).where(and(eq(personToken.personId, target.id), eq(personToken.type, EMAIL_OTP_TOKEN_TYPE)))
    const removedBackupCodes = await deleteBackupCodes(tx, target.id)
    await recordAudit(tx, actor, {
      type: 'mfa_reset', targetPersonId: target.id,
      eventData: { totp: before.totp, emailOtp: before.emailOtp, removedBackupCodes },
    })
    return ok(null)
  })
}
