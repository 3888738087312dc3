/**
 * E-mail OTP (2.2): a second factor delivered by mail. A 6-digit code lives in person_token
 * (type mfa_email_otp) as SHA-256 over the row id and the code (the id salts the hash, so equal
 * codes of two people differ at rest), for EMAIL_OTP_LIFETIME_MINUTES, with at most
 * EMAIL_OTP_MAX_ATTEMPTS wrong tries. Sending a new code retires the previous one. A code is not
 * re-sent while an unused one younger than EMAIL_OTP_RESEND_SECONDS exists, and every mail counts
 * against the configured per-person window (rateLimits.emailOtpPerPerson, default 5 per 15 min).
 */
import { randomInt, randomUUID } from 'node:crypto'
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm'
import type { DbOrTx, Tx } from '../../db/client.js'
import { personMfa, personToken } from '../../db/schema.js'
import { consumeRateLimit } from '../abuse/rate-limit.js'
import { recordAudit } from '../audit/record.js'
import { cachedPolicyRules, effectivePolicy } from '../auth-policies/effective.js'
import { readTenantConfig } from '../config/tenant-config.js'
import type { Actor, DomainContext } from '../context.js'
import { constantTimeEqual, generateToken, sha256Hex } from '../crypto/tokens.js'
import { fail, ok, type Result } from '../errors.js'
import { sendTemplatedMail } from '../mail/index.js'
import { preferredMailProject } from '../passwordless/mail-project.js'
import { deleteBackupCodes, issueBackupCodesOnEnrollment } from './backup-codes.js'
import { mailRecipient, MFA_REQUIRED_MESSAGE, mfaFlags, type MailRecipient } from './state.js'

export const EMAIL_OTP_TOKEN_TYPE = 'mfa_email_otp'
export const EMAIL_OTP_LIFETIME_MINUTES = 10
export const EMAIL_OTP_MAX_ATTEMPTS = 5
export const EMAIL_OTP_RESEND_SECONDS = 30

const otpHash = (tokenId: string, code: string) => sha256Hex(`${tokenId}:${code}`)

/** Whether an unused, unexpired code was sent within the resend interval. */
async function recentlySent(ctx: DomainContext, db: DbOrTx, personId: string): Promise<boolean> {
  const now = ctx.clock()
  const [row] = await db.select({ id: personToken.id }).from(personToken).where(and(
    eq(personToken.personId, personId), eq(personToken.type, EMAIL_OTP_TOKEN_TYPE), isNull(personToken.usedAt),
    gt(personToken.expiresAt, now), gt(personToken.createdAt, new Date(now.getTime() - EMAIL_OTP_RESEND_SECONDS * 1000)),
  )).limit(1)
  return row !== undefined
}

/** Retires earlier codes, stores a new one and mails it (audited `email_otp_sent`). */
async function sendCode(ctx: DomainContext, tx: Tx, actor: Actor | undefined, recipient: MailRecipient & { email: string }, purpose: 'enroll' | 'sign_in'): Promise<void> {
  await tx.delete(personToken).where(and(eq(personToken.personId, recipient.id), eq(personToken.type, EMAIL_OTP_TOKEN_TYPE), isNull(personToken.usedAt)))
  const id = randomUUID()
  const code = randomInt(0, 1_000_000).toString().padStart(6, '0')
  const now = ctx.clock()
  await tx.insert(personToken).values({
    id, personId: recipient.id, type: EMAIL_OTP_TOKEN_TYPE, createdAt: now,
    // token_hash is unique and unused for this type: a random value keeps the column honest.
    tokenHash: sha256Hex(generateToken()), otpHash: otpHash(id, code),
    expiresAt: new Date(now.getTime() + EMAIL_OTP_LIFETIME_MINUTES * 60_000),
  })
  const project = await preferredMailProject(tx, recipient.identityId, recipient.roles, null)
  await sendTemplatedMail(ctx, tx, {
    type: 'EMAIL_OTP', to: recipient.email, projectId: project?.id ?? null,
    variables: { email: recipient.email, code, expiresInMinutes: EMAIL_OTP_LIFETIME_MINUTES, project: project?.name, projectSlug: project?.slug },
  })
  await recordAudit(tx, actor, { type: 'email_otp_sent', personId: recipient.id, personTokenId: id, eventData: { purpose } })
}

/**
 * Checks a typed code against the person's current code and spends it on success. A wrong code
 * costs an attempt (the caller's transaction must commit for it to count); the row is locked,
 * so concurrent guesses are counted one by one.
 */
export async function consumeEmailOtp(ctx: DomainContext, tx: Tx, personId: string, code: string): Promise<boolean> {
  const [row] = await tx.select({ id: personToken.id, otpHash: personToken.otpHash, attempts: personToken.otpAttempts })
    .from(personToken).where(and(
      eq(personToken.personId, personId), eq(personToken.type, EMAIL_OTP_TOKEN_TYPE), isNull(personToken.usedAt), gt(personToken.expiresAt, ctx.clock()),
    )).orderBy(desc(personToken.createdAt)).limit(1).for('update')
  if (!row?.otpHash || row.attempts >= EMAIL_OTP_MAX_ATTEMPTS) return false
  if (!/^\d{6}$/.test(code) || !constantTimeEqual(row.otpHash, otpHash(row.id, code))) {
    await tx.update(personToken).set({ otpAttempts: sql`${personToken.otpAttempts} + 1` }).where(eq(personToken.id, row.id))
    return false
  }
  await tx.update(personToken).set({ usedAt: ctx.clock() }).where(eq(personToken.id, row.id))
  return true
}

/** The per-person mail budget (rateLimits.emailOtpPerPerson); counts one mail when allowed. */
async function withinMailBudget(ctx: DomainContext, db: DbOrTx, personId: string): Promise<boolean> {
  return (await consumeRateLimit(ctx, await readTenantConfig(db), 'emailOtpPerPerson', personId)) === null
}

/**
 * At sign-in without a code: mail one, unless one was just sent or the person's mail budget is
 * spent (then silently none: the answer stays OTP_REQUIRED, so it tells an attacker nothing).
 */
export async function sendSignInEmailOtp(ctx: DomainContext, tx: Tx, actor: Actor | undefined, personId: string): Promise<void> {
  const recipient = await mailRecipient(tx, personId)
  if (!recipient?.email || await recentlySent(ctx, tx, personId) || !(await withinMailBudget(ctx, tx, personId))) return
  await sendCode(ctx, tx, actor, { ...recipient, email: recipient.email }, 'sign_in')
}

export async function initEmailOtp(ctx: DomainContext, actor: Actor, personId: string): Promise<Result<null, 'NO_EMAIL' | 'RATE_LIMITED'>> {
  return ctx.db.transaction(async (tx) => {
    const recipient = await mailRecipient(tx, personId, true)
    if (!recipient?.email) return fail('NO_EMAIL', 'The person has no e-mail address to send codes to.')
    if (await recentlySent(ctx, tx, personId)) {
      return fail('RATE_LIMITED', `A code was sent less than ${EMAIL_OTP_RESEND_SECONDS} seconds ago; use it or wait.`)
    }
    if (!(await withinMailBudget(ctx, tx, personId))) return fail('RATE_LIMITED', 'Too many codes were sent to this person; try again later.')
    await sendCode(ctx, tx, actor, { ...recipient, email: recipient.email }, 'enroll')
    return ok(null)
  })
}

/** Switches e-mail OTP on with a code from initEmailOtp and issues a fresh set of backup codes. */
export async function confirmEmailOtp(ctx: DomainContext, actor: Actor, personId: string, code: string): Promise<Result<string[], 'INVALID_OTP_TOKEN'>> {
  return ctx.db.transaction(async (tx) => {
    await mfaFlags(tx, personId, true)
    if (!(await consumeEmailOtp(ctx, tx, personId, code))) {
      await recordAudit(tx, actor, { type: '2fa_enable', personId, success: false, errorCode: 'INVALID_OTP_TOKEN', eventData: { method: 'email' } })
      return fail('INVALID_OTP_TOKEN', 'The code is wrong, expired or already used. Request a new one with initEmailOtp.')
    }
    const now = ctx.clock()
    await tx.insert(personMfa).values({ personId, emailOtpEnabledAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: personMfa.personId, set: { emailOtpEnabledAt: now, updatedAt: now } })
    await recordAudit(tx, actor, { type: '2fa_enable', personId, eventData: { method: 'email' } })
    return ok(await issueBackupCodesOnEnrollment(ctx, tx, actor, personId, 'email'))
  })
}

export async function disableEmailOtp(ctx: DomainContext, actor: Actor, personId: string): Promise<Result<null, 'EMAIL_OTP_NOT_ACTIVE' | 'MFA_REQUIRED'>> {
  const rules = await cachedPolicyRules(ctx.db)
  return ctx.db.transaction(async (tx) => {
    const flags = await mfaFlags(tx, personId, true)
    if (!flags.emailOtp) return fail('EMAIL_OTP_NOT_ACTIVE', 'E-mail OTP is not active, you cannot disable it.')
    // The last active factor stays while an auth policy requires MFA.
    if (!flags.totp && (await effectivePolicy(tx, rules, personId)).mfaRequired) {
      await recordAudit(tx, actor, { type: '2fa_disable', personId, success: false, errorCode: 'MFA_REQUIRED', errorMessage: MFA_REQUIRED_MESSAGE, eventData: { method: 'email' } })
      return fail('MFA_REQUIRED', MFA_REQUIRED_MESSAGE)
    }
    await tx.update(personMfa).set({ emailOtpEnabledAt: null, updatedAt: ctx.clock() }).where(eq(personMfa.personId, personId))
    await tx.delete(personToken).where(and(eq(personToken.personId, personId), eq(personToken.type, EMAIL_OTP_TOKEN_TYPE)))
    // Backup codes belong to an active second factor: with none left they go, and a later enrollment issues new ones.
    const removedBackupCodes = flags.totp ? 0 : await deleteBackupCodes(tx, personId)
    await recordAudit(tx, actor, { type: '2fa_disable', personId, eventData: { method: 'email', removedBackupCodes } })
    return ok(null)
  })
}
