/**
 * TOTP two-factor authentication of a person (Contember §7.4): prepare a secret, confirm it with
 * a first code, disable it; and the check every sign-in path runs after the first factor. The
 * otpauth URI (which contains the secret) is stored encrypted in person_mfa; a code is accepted
 * at most once, because a successful check moves person_mfa.otp_last_step past its step.
 */
import { and, eq, isNull, lt, or } from 'drizzle-orm'
import type { DbOrTx, Tx } from '../../db/client.js'
import { person, personMfa } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import { cachedPolicyRules, effectivePolicy } from '../auth-policies/effective.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { deleteBackupCodes, issueBackupCodesOnEnrollment, useBackupCode } from './backup-codes.js'
import { consumeEmailOtp, sendSignInEmailOtp } from './email-otp.js'
import { MFA_REQUIRED_MESSAGE } from './state.js'
import { generateTotpSecret, matchTotpStep, otpAuthUri, secretFromOtpAuthUri } from './totp.js'

const DEFAULT_ISSUER = 'Contember'

export const SIGN_IN_OTP_MESSAGES = {
  OTP_REQUIRED: '2FA is enabled. OTP token is required',
  INVALID_OTP_TOKEN: 'OTP token validation has failed',
} as const

export type SignInOtpCode = keyof typeof SIGN_IN_OTP_MESSAGES

interface MfaState {
  otpUri: string | null
  activatedAt: Date | null
  emailOtpEnabledAt: Date | null
}

export async function loadMfa(ctx: DomainContext, db: DbOrTx, personId: string, lock = false): Promise<MfaState> {
  const query = db.select({ sealed: personMfa.otpUriEncrypted, activatedAt: personMfa.otpActivatedAt, emailOtpEnabledAt: personMfa.emailOtpEnabledAt })
    .from(personMfa).where(eq(personMfa.personId, personId))
  const [row] = lock ? await query.for('update') : await query
  return {
    otpUri: row?.sealed ? ctx.encryption.decrypt(row.sealed) : null,
    activatedAt: row?.activatedAt ?? null,
    emailOtpEnabledAt: row?.emailOtpEnabledAt ?? null,
  }
}

/**
 * Accepts `code` for the person's secret if it matches a step within the window that is newer
 * than the last accepted one. The conditional update makes two concurrent uses of one code
 * race on the row: only one of them moves otp_last_step.
 */
export async function consumeCode(ctx: DomainContext, tx: Tx, personId: string, otpUri: string, code: string): Promise<boolean> {
  const step = matchTotpStep(secretFromOtpAuthUri(otpUri), code, ctx.clock())
  if (step === null) return false
  const updated = await tx.update(personMfa)
    .set({ otpLastStep: step, updatedAt: ctx.clock() })
    .where(and(eq(personMfa.personId, personId), or(isNull(personMfa.otpLastStep), lt(personMfa.otpLastStep, step))))
    .returning({ personId: personMfa.personId })
  return updated.length === 1
}

export interface PreparedOtp {
  otpUri: string
  otpSecret: string
}

/**
 * A new secret for the person; any active 2FA is switched off until confirmOtp succeeds again
 * (Contember does the same). The account name in the URI is the e-mail, else the name.
 */
export async function prepareOtp(ctx: DomainContext, actor: Actor, personId: string, label: string | null | undefined): Promise<PreparedOtp> {
  const issuer = label || DEFAULT_ISSUER
  return ctx.db.transaction(async (tx) => {
    const prepared = await provisionOtp(ctx, tx, personId, issuer)
    await recordAudit(tx, actor, { type: '2fa_prepare', personId, eventData: { issuer } })
    return prepared
  })
}

/** Stores a fresh, not yet active secret for the person (replacing any) inside the caller's transaction. */
export async function provisionOtp(ctx: DomainContext, tx: DbOrTx, personId: string, issuer = DEFAULT_ISSUER): Promise<PreparedOtp> {
  const [row] = await tx.select({ email: person.email, name: person.name }).from(person).where(eq(person.id, personId))
  if (!row) throw new Error(`person ${personId} vanished`)
  const otpSecret = generateTotpSecret()
  const otpUri = otpAuthUri(issuer, row.email || row.name || 'unnamed', otpSecret)
  const values = { otpUriEncrypted: ctx.encryption.encrypt(otpUri), otpActivatedAt: null, otpLastStep: null, updatedAt: ctx.clock() }
  await tx.insert(personMfa).values({ personId, ...values })
    .onConflictDoUpdate({ target: personMfa.personId, set: values })
  return { otpUri, otpSecret }
}

export type ConfirmOtpCode = 'NOT_PREPARED' | 'INVALID_OTP_TOKEN'

/** Activates TOTP; the answer carries a fresh set of backup codes (2.2's ConfirmOtpResult). */
export async function confirmOtp(ctx: DomainContext, actor: Actor, personId: string, code: string): Promise<Result<string[], ConfirmOtpCode>> {
  return ctx.db.transaction(async (tx) => {
    const mfa = await loadMfa(ctx, tx, personId, true)
    if (!mfa.otpUri) return fail('NOT_PREPARED', 'OTP setup was not initialized. Call prepareOtp first.')
    if (!(await consumeCode(ctx, tx, personId, mfa.otpUri, code))) {
      await recordAudit(tx, actor, { type: '2fa_enable', personId, success: false, errorCode: 'INVALID_OTP_TOKEN' })
      return fail('INVALID_OTP_TOKEN', 'Provided token is not correct.')
    }
    await tx.update(personMfa).set({ otpActivatedAt: ctx.clock(), updatedAt: ctx.clock() }).where(eq(personMfa.personId, personId))
    await recordAudit(tx, actor, { type: '2fa_enable', personId })
    return ok(await issueBackupCodesOnEnrollment(ctx, tx, actor, personId, 'totp'))
  })
}

/**
 * Clears a prepared or active secret; nothing prepared → OTP_NOT_ACTIVE (Contember checks the URI
 * only). Active TOTP as the person's only factor while an auth policy requires MFA → MFA_REQUIRED.
 */
export async function disableOtp(ctx: DomainContext, actor: Actor, personId: string): Promise<Result<null, 'OTP_NOT_ACTIVE' | 'MFA_REQUIRED'>> {
  const rules = await cachedPolicyRules(ctx.db)
  return ctx.db.transaction(async (tx) => {
    const mfa = await loadMfa(ctx, tx, personId, true)
    if (!mfa.otpUri) return fail('OTP_NOT_ACTIVE', 'OTP is not active, you cannot disable it.')
    if (mfa.activatedAt && !mfa.emailOtpEnabledAt && (await effectivePolicy(tx, rules, personId)).mfaRequired) {
      await recordAudit(tx, actor, { type: '2fa_disable', personId, success: false, errorCode: 'MFA_REQUIRED', errorMessage: MFA_REQUIRED_MESSAGE })
      return fail('MFA_REQUIRED', MFA_REQUIRED_MESSAGE)
    }
    await tx.update(personMfa)
      .set({ otpUriEncrypted: null, otpActivatedAt: null, otpLastStep: null, updatedAt: ctx.clock() })
      .where(eq(personMfa.personId, personId))
    const removedBackupCodes = mfa.emailOtpEnabledAt ? 0 : await deleteBackupCodes(tx, personId)
    await recordAudit(tx, actor, { type: '2fa_disable', personId, eventData: { removedBackupCodes } })
    return ok(null)
  })
}

export interface SecondFactorOptions {
  /** 2.2: a backup code instead of the one-time code. */
  backupCode?: string | null
  /** Who signs in, for the audit events of spent backup codes and mailed codes. */
  actor?: Actor
}

/** What the second-factor check found: no active factor at all, or a factor that was satisfied. */
export type SecondFactor = 'none' | 'verified'

/**
 * The second factor of a sign-in (password, passwordless), run inside the caller's transaction
 * after the first factor succeeded. Neither TOTP nor e-mail OTP active → ok('none'), and an auth
 * policy may still require enrollment (enrollment.ts). A code is checked
 * against TOTP, then against the mailed code; otherwise a backup code is spent. Without either,
 * OTP_REQUIRED, and a person whose factor is e-mail OTP only (no TOTP) is mailed a code. A wrong,
 * stale or used code or backup code → INVALID_OTP_TOKEN. Spent codes and failed attempts persist
 * only if the caller's transaction commits (the sign-in paths commit their failures too).
 */
export async function checkSignInOtp(
  ctx: DomainContext, tx: Tx, personId: string, otpToken: string | null | undefined, options: SecondFactorOptions = {},
): Promise<Result<SecondFactor, SignInOtpCode>> {
  const mfa = await loadMfa(ctx, tx, personId, true)
  const totpActive = Boolean(mfa.otpUri && mfa.activatedAt)
  const emailOtpActive = mfa.emailOtpEnabledAt !== null
  if (!totpActive && !emailOtpActive) return ok('none')
  const verified = ok('verified' as const)
  const invalid = () => fail('INVALID_OTP_TOKEN' as const, SIGN_IN_OTP_MESSAGES.INVALID_OTP_TOKEN)
  if (otpToken) {
    if (totpActive && await consumeCode(ctx, tx, personId, mfa.otpUri!, otpToken)) return verified
    if (emailOtpActive && await consumeEmailOtp(ctx, tx, personId, otpToken)) return verified
    return invalid()
  }
  if (options.backupCode) return await useBackupCode(ctx, tx, options.actor, personId, options.backupCode) ? verified : invalid()
  if (emailOtpActive && !totpActive) await sendSignInEmailOtp(ctx, tx, options.actor, personId)
  return fail('OTP_REQUIRED', SIGN_IN_OTP_MESSAGES.OTP_REQUIRED)
}
