/**
 * MFA required by an auth policy (2.2, mfaRequired) for a person who has no active second factor
 * (neither TOTP nor e-mail OTP; a person who has one goes through checkSignInOtp as always).
 *
 * Grace: mfaGraceDuration (the policy's, else configure's login.mfaGraceDuration, default zero)
 * counts from the person's first sign-in under a policy requiring MFA, kept in
 * person.mfa_grace_until. Counting from the person rather than from the policy's creation gives
 * someone who comes under an old policy (a new member, a new role) the whole window; later
 * sign-ins and policy edits do not restart it.
 *
 * After the grace, password sign-in answers MFA_ENROLLMENT_REQUIRED with a freshly provisioned,
 * not yet active TOTP secret (SignInError.mfaEnrollment); signIn again with an otpToken for that
 * secret activates it and succeeds, returning fresh backup codes (SignInResult.backupCodes).
 * Where the response has no field for the secret (passwordless), the error carries none and
 * nothing is provisioned: the person enrolls through a password sign-in.
 */
import { eq } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { person, personMfa } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { EffectivePolicy } from '../auth-policies/effective.js'
import { intervalMs } from '../config/interval.js'
import type { LoginConfig } from '../config/tenant-config.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { issueBackupCodesOnEnrollment } from './backup-codes.js'
import { consumeCode, loadMfa, provisionOtp, SIGN_IN_OTP_MESSAGES, type PreparedOtp } from './otp.js'

export type EnrollmentCode = 'MFA_ENROLLMENT_REQUIRED' | 'INVALID_OTP_TOKEN'

export interface EnrollmentOutcome {
  /** Set when this sign-in completed the enrollment: the new backup codes, shown once. */
  backupCodes?: string[]
  /** Set while the sign-in is let through inside the grace window. */
  mfaGraceUntil?: Date
}

export interface EnrollmentInput {
  otpToken?: string | null
  actor?: Actor
  /** Whether the response can carry a provisioned secret (password signIn only). */
  canEnroll: boolean
}

export const MFA_ENROLLMENT_MESSAGE = 'An auth policy requires two-factor authentication: enroll the provided TOTP secret and sign in again with otpToken'

/** The grace window's end, opening it now when this is the first sign-in under the policy; null = none left. */
async function graceUntil(ctx: DomainContext, tx: Tx, personId: string, policy: EffectivePolicy, login: LoginConfig): Promise<Date | null> {
  const now = ctx.clock()
  const [row] = await tx.select({ until: person.mfaGraceUntil }).from(person).where(eq(person.id, personId)).for('update')
  if (row?.until) return row.until.getTime() > now.getTime() ? row.until : null
  const graceMs = policy.mfaGraceMs ?? intervalMs(login.mfaGraceDuration) ?? 0
  if (graceMs <= 0) return null
  const until = new Date(now.getTime() + graceMs)
  await tx.update(person).set({ mfaGraceUntil: until }).where(eq(person.id, personId))
  return until
}

/** Run after checkSignInOtp found no active factor, inside the sign-in's transaction. */
export async function enforceMfaPolicy(
  ctx: DomainContext, tx: Tx, personId: string, policy: EffectivePolicy, login: LoginConfig, input: EnrollmentInput,
): Promise<Result<EnrollmentOutcome, EnrollmentCode>> {
  if (!policy.mfaRequired) return ok({})
  const until = await graceUntil(ctx, tx, personId, policy, login)
  if (until) return ok({ mfaGraceUntil: until })

  if (input.canEnroll && input.otpToken) {
    const pending = await loadMfa(ctx, tx, personId, true)
    if (pending.otpUri && !pending.activatedAt) {
      if (!(await consumeCode(ctx, tx, personId, pending.otpUri, input.otpToken))) {
        return fail('INVALID_OTP_TOKEN', SIGN_IN_OTP_MESSAGES.INVALID_OTP_TOKEN)
      }
      await tx.update(personMfa).set({ otpActivatedAt: ctx.clock(), updatedAt: ctx.clock() }).where(eq(personMfa.personId, personId))
      await recordAudit(tx, input.actor, { type: '2fa_enable', personId, eventData: { method: 'totp', enrolledAtSignIn: true, policyIds: policy.policyIds } })
      return ok({ backupCodes: await issueBackupCodesOnEnrollment(ctx, tx, input.actor ?? {}, personId, 'totp') })
    }
  }

  let enrollment: PreparedOtp | undefined
  if (input.canEnroll) enrollment = await provisionOtp(ctx, tx, personId)
  await recordAudit(tx, input.actor, {
    type: 'mfa_enrollment_required', personId,
    eventData: { policyIds: policy.policyIds, secretProvisioned: Boolean(enrollment) },
  })
  return fail('MFA_ENROLLMENT_REQUIRED', input.canEnroll ? MFA_ENROLLMENT_MESSAGE : 'An auth policy requires two-factor authentication: sign in with a password to enroll',
    enrollment ? { mfaEnrollment: enrollment } : undefined)
}
