/**
 * signIn and createSessionToken: the two ways to obtain a session key for a person.
 *
 * signIn follows Contember's order with one fix: the password is checked before the disabled
 * flag, so PERSON_DISABLED is only told to someone who knows the password. Stored bcrypt (or
 * weaker argon2) hashes are re-hashed to the current argon2id parameters on success. Both
 * outcomes are audited (`login`, `create_session_token`), never with the password or token.
 * The person's effective auth policy shapes the session (auth-policies/session-terms.ts) and, for
 * signIn only, may require MFA enrollment (mfa/enrollment.ts); createSessionToken is an admin's
 * impersonation, which the 2.2 schema gives no MFA error for.
 */
import { eq } from 'drizzle-orm'
import { person } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import { checkSignInOtp } from '../mfa/otp.js'
import { enforceMfaPolicy, type EnrollmentOutcome } from '../mfa/enrollment.js'
import { cachedPolicyRules, effectivePolicy } from '../auth-policies/effective.js'
import { createPolicySession } from '../auth-policies/session-terms.js'
import { settleSignIn, signInRefusal } from '../abuse/sign-in-gate.js'
import { countWrongPassword, resetWrongPasswords } from '../abuse/login-throttle.js'
import { cachedTenantConfig } from '../config/tenant-config.js'
import { sessionTerms } from '../config/session-lifetime.js'
import { tooLongToVerify } from './password-policy.js'
import { findPersonByEmail, findPersonById, findSignInCandidate, toPersonRow, type AuthorizeTarget, type Failure, type PersonRecord } from './persons.js'
import type { PersonRow } from './queries.js'

export interface SessionIssued {
  ok: true
  token: string
  person: PersonRow
  /** Backup codes of an MFA enrollment this sign-in completed (SignInResult.backupCodes). */
  backupCodes?: string[]
}

export type SignInErrorCode = 'UNKNOWN_EMAIL' | 'NO_PASSWORD_SET' | 'INVALID_PASSWORD' | 'PERSON_DISABLED' | 'OTP_REQUIRED' | 'INVALID_OTP_TOKEN'
  | 'MFA_ENROLLMENT_REQUIRED' | 'INVALID_CREDENTIALS' | 'RATE_LIMIT_EXCEEDED'

export interface SignInInput {
  email: string
  password: string
  expiration?: number | null
  otpToken?: string | null
  /** 2.2: a backup code in place of otpToken. */
  backupCode?: string | null
}

export async function signIn(ctx: DomainContext, actor: Actor, input: SignInInput): Promise<SessionIssued | Failure<SignInErrorCode>> {
  // Independent reads, side by side: the configuration (usually from memory) and the person.
  const [tenant, found, rules] = await Promise.all([
    cachedTenantConfig(ctx.db), findSignInCandidate(ctx.db, input.email), cachedPolicyRules(ctx.db),
  ])
  const refused = await signInRefusal(ctx, actor, tenant, input.email, found?.lockout)
  if (refused) return refused
  // The hash is verified outside the transaction: no connection is held while argon2 runs.
  const check = found?.passwordHash && !tooLongToVerify(ctx.config, input.password)
    ? await ctx.passwords.verify(found.passwordHash, input.password)
    : { valid: false, needsRehash: false }
  const rehash = check.needsRehash ? await ctx.passwords.hash(input.password) : undefined

  const outcome = await ctx.db.transaction(async (tx) => {
    const failed = async (code: SignInErrorCode, message: string, target?: PersonRecord, details?: Record<string, unknown>) => {
      if (code === 'INVALID_PASSWORD' && target) await countWrongPassword(tx, target.id, ctx.clock())
      await recordAudit(tx, actor, {
        type: 'login', success: false, errorCode: code, errorMessage: message,
        personId: target?.id ?? null, personInputIdentifier: input.email,
      })
      return fail(code, message, details)
    }
    if (!found) return failed('UNKNOWN_EMAIL', `Person with email ${input.email} not found`)
    if (!found.passwordHash) return failed('NO_PASSWORD_SET', 'No password set', found)
    if (!check.valid) return failed('INVALID_PASSWORD', 'Password does not match', found)
    if (found.disabledAt) return failed('PERSON_DISABLED', 'Person is disabled', found)
    const policy = await effectivePolicy(tx, rules, found.id)
    const otp = await checkSignInOtp(ctx, tx, found.id, input.otpToken, { backupCode: input.backupCode, actor })
    if (!otp.ok) return failed(otp.code, otp.message, found)
    let enrollment: EnrollmentOutcome = {}
    if (otp.value === 'none') {
      const enforced = await enforceMfaPolicy(ctx, tx, found.id, policy, tenant.login, { otpToken: input.otpToken, actor, canEnroll: true })
      if (!enforced.ok) return failed(enforced.code, enforced.message, found, enforced.details)
      enrollment = enforced.value
    }
    if (rehash) await tx.update(person).set({ passwordHash: rehash }).where(eq(person.id, found.id))
    // Nothing to reset when the count read a moment ago was zero (the common case): one round trip less.
    if (found.lockout.failures !== 0) await resetWrongPasswords(tx, found.id)
    const { expiration, defaultMinutes } = sessionTerms(tenant.login, input.expiration, ctx.config.sessions.defaultExpirationMinutes)
    const session = await createPolicySession(ctx, tx, { personId: found.id, identityId: found.identityId }, expiration, defaultMinutes, policy, actor)
    await recordAudit(tx, actor, {
      type: 'login', personId: found.id, personInputIdentifier: input.email,
      eventData: {
        apiKeyId: session.id, expiresAt: session.expiresAt.toISOString(), passwordRehashed: Boolean(rehash),
        ...(enrollment.mfaGraceUntil ? { mfaGraceUntil: enrollment.mfaGraceUntil.toISOString() } : {}),
        ...(enrollment.backupCodes ? { mfaEnrolled: true } : {}),
      },
    })
    return { ok: true as const, token: session.token, person: toPersonRow(found), backupCodes: enrollment.backupCodes }
  })
  return settleSignIn(ctx, tenant.login, input.email, outcome)
}

export type CreateSessionTokenErrorCode = 'UNKNOWN_EMAIL' | 'UNKNOWN_PERSON_ID' | 'PERSON_DISABLED'

export type PersonIdentifier = { email: string } | { personId: string }

/**
 * A session for another person without their password (impersonation by an admin). Contember
 * checks access twice: the surface checks the action first, `authorize` then checks the target.
 */
export async function createSessionToken(
  ctx: DomainContext, actor: Actor, identifier: PersonIdentifier, expiration: number | null | undefined, authorize: AuthorizeTarget,
): Promise<SessionIssued | Failure<CreateSessionTokenErrorCode>> {
  const [tenant, rules] = await Promise.all([cachedTenantConfig(ctx.db), cachedPolicyRules(ctx.db)])
  const terms = sessionTerms(tenant.login, expiration, ctx.config.sessions.defaultExpirationMinutes)
  return ctx.db.transaction(async (tx) => {
    const input = 'email' in identifier ? identifier.email : identifier.personId
    const target = 'email' in identifier ? await findPersonByEmail(tx, identifier.email) : await findPersonById(tx, identifier.personId)
    const failed = async (code: CreateSessionTokenErrorCode, message: string) => {
      await recordAudit(tx, actor, {
        type: 'create_session_token', success: false, errorCode: code, errorMessage: message,
        targetPersonId: target?.id ?? null, personInputIdentifier: input,
      })
      return fail(code, message)
    }
    if (!target) {
      return 'email' in identifier
        ? failed('UNKNOWN_EMAIL', `Person with email ${identifier.email} not found`)
        : failed('UNKNOWN_PERSON_ID', `Person with id ${identifier.personId} not found`)
    }
    if (target.disabledAt) return failed('PERSON_DISABLED', `Person with id ${target.id} is disabled`)
    authorize(target.roles)
    const policy = await effectivePolicy(tx, rules, target.id)
    const owner = { personId: target.id, identityId: target.identityId }
    const session = await createPolicySession(ctx, tx, owner, terms.expiration, terms.defaultMinutes, policy, actor)
    await recordAudit(tx, actor, {
      type: 'create_session_token', targetPersonId: target.id, personInputIdentifier: input,
      eventData: { apiKeyId: session.id, expiresAt: session.expiresAt.toISOString() },
    })
    return { ok: true as const, token: session.token, person: toPersonRow(target) }
  })
}
