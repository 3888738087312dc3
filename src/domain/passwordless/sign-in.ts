/**
 * Passwordless sign-in (Contember §7.5): a request mails a one-time link (token + request id);
 * the link's browser either signs in with the token, or exchanges it for an OTP (it sends the
 * OTP's SHA-256 and shows the OTP) that the original device types in, at most three wrong
 * tries. Only hashes are stored. Every step is one transaction with its audit event; token rows
 * are locked while validated, so concurrent guesses are counted and a token signs in once.
 */
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { personToken } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import { cachedTenantConfig, readTenantConfig, type ConfigPolicy } from '../config/tenant-config.js'
import { sessionTerms } from '../config/session-lifetime.js'
import type { Actor, DomainContext } from '../context.js'
import { generateToken, sha256Hex } from '../crypto/tokens.js'
import { fail, ok, type Result } from '../errors.js'
import { findPersonByEmail } from '../identity/persons.js'
import { personById, UUID, type PersonRow } from '../identity/queries.js'
import { sendTemplatedMail } from '../mail/index.js'
import { checkSignInOtp, type SignInOtpCode } from '../mfa/otp.js'
import { enforceMfaPolicy, type EnrollmentCode } from '../mfa/enrollment.js'
import { cachedPolicyRules, effectivePolicy } from '../auth-policies/effective.js'
import { createPolicySession } from '../auth-policies/session-terms.js'
import { preferredMailProject } from './mail-project.js'
import { publicFlowFailure } from '../abuse/guard.js'
import { validatePasswordlessToken, type PasswordlessTokenRow, type TokenErrorCode, type ValidationType } from './token.js'

export const PASSWORDLESS_TOKEN_TYPE = 'passwordless'

/** Whether the policy lets this person sign in without a password (`personValue` = person.passwordless_enabled). */
export function isPasswordlessEnabled(policy: ConfigPolicy, personValue: boolean | null): boolean {
  switch (policy) {
    case 'always': return true
    case 'never': return false
    case 'optIn': return personValue === true
    case 'optOut': return personValue !== false
  }
}

/** The sign-in link: the configured URL with token, request_id and email set (other parameters kept). */
function signInUrl(base: string | null, token: string, requestId: string, email: string): string | undefined {
  if (!base) return undefined
  let url: URL
  try {
    url = new URL(base)
  } catch {
    return undefined
  }
  url.searchParams.set('token', token)
  url.searchParams.set('request_id', requestId)
  url.searchParams.set('email', email)
  return url.toString()
}

export interface InitPasswordlessInput {
  email: string
  mailVariant?: string | null
  mailProject?: string | null
  captchaToken?: string | null
}

export type InitPasswordlessCode = 'PERSON_NOT_FOUND' | 'PASSWORDLESS_DISABLED' | 'INVALID_CAPTCHA' | 'RATE_LIMIT_EXCEEDED'

export async function initSignInPasswordless(
  ctx: DomainContext, actor: Actor, input: InitPasswordlessInput,
): Promise<Result<{ requestId: string, expiresAt: Date }, InitPasswordlessCode>> {
  // 2.2: the per-IP limit and the captcha first; an unknown e-mail looks like a disabled
  // passwordless sign-in unless login.revealUserExists.
  const tenant = await readTenantConfig(ctx.db)
  const refused = await publicFlowFailure(ctx, actor, tenant, 'passwordlessInitPerIp', 'passwordlessInit', input.captchaToken)
  if (refused) return refused
  return ctx.db.transaction(async (tx) => {
    const failed = async (code: InitPasswordlessCode, message: string, personId: string | null = null) => {
      await recordAudit(tx, actor, { type: 'passwordless_login_init', success: false, errorCode: code, errorMessage: message, personId, personInputIdentifier: input.email })
      return fail(code, message)
    }
    const { passwordless } = await readTenantConfig(tx)
    if (passwordless.enabled === 'never') return failed('PASSWORDLESS_DISABLED', 'Passwordless sign-in is disabled')
    const found = await findPersonByEmail(tx, input.email)
    if (!found && !tenant.login.revealUserExists) return failed('PASSWORDLESS_DISABLED', 'Passwordless sign-in is disabled for this person')
    if (!found) return failed('PERSON_NOT_FOUND', `Person ${input.email} not found`)
    if (!isPasswordlessEnabled(passwordless.enabled, found.passwordlessEnabled)) {
      return failed('PASSWORDLESS_DISABLED', 'Passwordless sign-in is disabled for this person', found.id)
    }

    const token = generateToken()
    const now = ctx.clock()
    const expiresAt = new Date(now.getTime() + passwordless.expirationMs)
    const [row] = await tx.insert(personToken).values({
      tokenHash: sha256Hex(token), personId: found.id, type: PASSWORDLESS_TOKEN_TYPE, expiresAt, createdAt: now,
    }).returning({ id: personToken.id })

    const project = await preferredMailProject(tx, found.identityId, found.roles, input.mailProject)
    await sendTemplatedMail(ctx, tx, {
      type: 'PASSWORDLESS_SIGN_IN',
      // Delivered to the stored address; the variables keep what the user typed, as Contember.
      to: found.email ?? input.email,
      projectId: project?.id ?? null,
      variant: input.mailVariant || '',
      variables: {
        email: input.email, token, requestId: row.id,
        url: signInUrl(passwordless.url, token, row.id, input.email),
        project: project?.name, projectSlug: project?.slug,
      },
    })
    await recordAudit(tx, actor, {
      type: 'passwordless_login_init', personId: found.id, personTokenId: row.id, personInputIdentifier: input.email,
      eventData: { expiresAt: expiresAt.toISOString(), projectSlug: project?.slug ?? null, mailVariant: input.mailVariant || null },
    })
    return ok({ requestId: row.id, expiresAt })
  })
}

/** The passwordless token row, locked for the rest of the transaction; a malformed id is "not found". */
async function lockToken(tx: Tx, requestId: string): Promise<PasswordlessTokenRow | undefined> {
  if (!UUID.test(requestId)) return undefined
  const [row] = await tx.select({
    id: personToken.id, personId: personToken.personId, tokenHash: personToken.tokenHash, otpHash: personToken.otpHash,
    otpAttempts: personToken.otpAttempts, usedAt: personToken.usedAt, expiresAt: personToken.expiresAt,
  }).from(personToken)
    .where(and(eq(personToken.id, requestId), eq(personToken.type, PASSWORDLESS_TOKEN_TYPE)))
    .for('update')
  return row
}

export interface ActivateOtpInput {
  requestId: string
  token: string
  /** SHA-256 hex of the OTP the link's browser shows; stored as given (Contember does not check its format). */
  otpHash: string
}

export async function activatePasswordlessOtp(ctx: DomainContext, actor: Actor, input: ActivateOtpInput): Promise<Result<null, TokenErrorCode>> {
  return ctx.db.transaction(async (tx) => {
    const row = await lockToken(tx, input.requestId)
    const verdict = validatePasswordlessToken(row, 'token', input.token, ctx.clock())
    if (!verdict.ok) {
      await recordAudit(tx, actor, {
        type: 'passwordless_login_exchange', success: false, errorCode: verdict.code, errorMessage: verdict.message,
        personId: row?.personId ?? null, personTokenId: row?.id ?? null,
      })
      return verdict
    }
    await tx.update(personToken).set({ otpHash: input.otpHash }).where(eq(personToken.id, verdict.value.id))
    await recordAudit(tx, actor, { type: 'passwordless_login_exchange', personId: verdict.value.personId, personTokenId: verdict.value.id })
    return ok(null)
  })
}

export interface SignInPasswordlessInput {
  requestId: string
  validationType: ValidationType
  /** The mailed token (validationType token) or the typed OTP (validationType otp). */
  token: string
  expiration?: number | null
  mfaOtp?: string | null
  /** 2.2: a backup code in place of mfaOtp. */
  backupCode?: string | null
}

export type SignInPasswordlessCode = TokenErrorCode | 'PERSON_DISABLED' | SignInOtpCode | EnrollmentCode

/**
 * The person's auth policy applies as to signIn, except that a person without a factor cannot
 * enroll here (the response has no field for a secret): after the grace, MFA_ENROLLMENT_REQUIRED.
 */
export async function signInPasswordless(
  ctx: DomainContext, actor: Actor, input: SignInPasswordlessInput,
): Promise<Result<{ token: string, person: PersonRow }, SignInPasswordlessCode>> {
  const [tenant, rules] = await Promise.all([cachedTenantConfig(ctx.db), cachedPolicyRules(ctx.db)])
  return ctx.db.transaction(async (tx) => {
    const row = await lockToken(tx, input.requestId)
    const failed = async (code: SignInPasswordlessCode, message: string) => {
      await recordAudit(tx, actor, {
        type: 'passwordless_login', success: false, errorCode: code, errorMessage: message,
        personId: row?.personId ?? null, personTokenId: row?.id ?? null,
      })
      return fail(code, message)
    }
    const verdict = validatePasswordlessToken(row, input.validationType, input.token, ctx.clock())
    if (!verdict.ok) {
      // A wrong OTP (or an OTP before the exchange) costs one of the three attempts.
      if (verdict.code === 'TOKEN_INVALID' && input.validationType === 'otp' && row) {
        await tx.update(personToken).set({ otpAttempts: sql`${personToken.otpAttempts} + 1` }).where(eq(personToken.id, row.id))
      }
      return failed(verdict.code, verdict.message)
    }
    const target = await personById(tx, verdict.value.personId)
    if (!target) throw new Error(`person of token ${verdict.value.id} vanished`)
    if (target.disabledAt) return failed('PERSON_DISABLED', 'Person is disabled')
    const policy = await effectivePolicy(tx, rules, target.id)
    const second = await checkSignInOtp(ctx, tx, target.id, input.mfaOtp, { backupCode: input.backupCode, actor })
    if (!second.ok) return failed(second.code, second.message)
    if (second.value === 'none') {
      const enforced = await enforceMfaPolicy(ctx, tx, target.id, policy, tenant.login, { actor, canEnroll: false })
      if (!enforced.ok) return failed(enforced.code, enforced.message)
    }

    await tx.update(personToken).set({ usedAt: ctx.clock() }).where(and(eq(personToken.id, verdict.value.id), isNull(personToken.usedAt)))
    const owner = { personId: target.id, identityId: target.identityId }
    const { expiration, defaultMinutes } = sessionTerms(tenant.login, input.expiration, ctx.config.sessions.defaultExpirationMinutes)
    const session = await createPolicySession(ctx, tx, owner, expiration, defaultMinutes, policy, actor)
    await recordAudit(tx, actor, {
      type: 'passwordless_login', personId: target.id, personTokenId: verdict.value.id,
      eventData: { validationType: input.validationType, apiKeyId: session.id, expiresAt: session.expiresAt.toISOString() },
    })
    return ok({ token: session.token, person: target })
  })
}
