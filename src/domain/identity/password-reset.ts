/**
 * The password-reset flow: createResetPasswordRequest (a one-hour `password_reset` person token,
 * mailed as RESET_PASSWORD_REQUEST), resetPassword (uses the token once, sets the password, ends
 * the person's sessions) and checkResetPasswordToken (what a reset form asks before showing
 * itself). Tokens are 40 hex, stored as SHA-256; a token never appears in the audit log.
 * Requests pass the per-IP limit and the captcha (2.2). An unknown e-mail is PERSON_NOT_FOUND
 * only with `login.revealUserExists`; by default the answer is ok, as for a known one.
 */
import { and, eq } from 'drizzle-orm'
import { person, personToken } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { constantTimeEqual, generateToken, sha256Hex } from '../crypto/tokens.js'
import { fail } from '../errors.js'
import { sendTemplatedMail } from '../mail/index.js'
import { preferredMailProject } from '../passwordless/mail-project.js'
import { disableIdentitySessions } from '../sessions/api-keys.js'
import { publicFlowFailure } from '../abuse/guard.js'
import { clearFailedAttempts, resetWrongPasswords } from '../abuse/login-throttle.js'
import { readTenantConfig } from '../config/tenant-config.js'
import { checkPassword, weaknessDetails } from './password-policy.js'
import { findPersonByEmail, type Failure } from './persons.js'
import { UUID } from './queries.js'

const RESET_TOKEN_TYPE = 'password_reset'
const RESET_TOKEN_MINUTES = 60

export interface ResetRequestOptions {
  mailProject?: string | null
  mailVariant?: string | null
}

export async function createResetPasswordRequest(
  ctx: DomainContext, actor: Actor, email: string, options: ResetRequestOptions = {}, captchaToken?: string | null,
): Promise<{ ok: true } | Failure<'PERSON_NOT_FOUND' | 'INVALID_CAPTCHA' | 'RATE_LIMIT_EXCEEDED'>> {
  const tenant = await readTenantConfig(ctx.db)
  const refused = await publicFlowFailure(ctx, actor, tenant, 'passwordResetPerIp', 'passwordReset', captchaToken)
  if (refused) return refused
  return ctx.db.transaction(async (tx) => {
    const target = await findPersonByEmail(tx, email)
    if (!target?.email) {
      await recordAudit(tx, actor, {
        type: 'password_reset_init', success: false, errorCode: 'PERSON_NOT_FOUND', errorMessage: 'Person was not found.', personInputIdentifier: email,
      })
      return tenant.login.revealUserExists ? fail('PERSON_NOT_FOUND', 'Person was not found.') : { ok: true as const }
    }
    const now = ctx.clock()
    const token = generateToken()
    const [row] = await tx.insert(personToken).values({
      tokenHash: sha256Hex(token), personId: target.id, type: RESET_TOKEN_TYPE,
      expiresAt: new Date(now.getTime() + RESET_TOKEN_MINUTES * 60_000), createdAt: now,
    }).returning({ id: personToken.id })
    const mailProject = await preferredMailProject(tx, target.identityId, target.roles, options.mailProject)
    await sendTemplatedMail(ctx, tx, {
      type: 'RESET_PASSWORD_REQUEST',
      to: target.email,
      projectId: mailProject?.id ?? null,
      variant: options.mailVariant ?? '',
      variables: { email: target.email, token, project: mailProject?.name, projectSlug: mailProject?.slug },
    })
    await recordAudit(tx, actor, {
      type: 'password_reset_init', targetPersonId: target.id, personTokenId: row.id, personInputIdentifier: email,
      projectId: mailProject?.id ?? null, eventData: { requestId: row.id, expiresInMinutes: RESET_TOKEN_MINUTES },
    })
    return { ok: true as const }
  })
}

export type ResetPasswordErrorCode = 'PASSWORD_TOO_WEAK' | 'TOKEN_NOT_FOUND' | 'TOKEN_USED' | 'TOKEN_EXPIRED'

export async function resetPassword(ctx: DomainContext, actor: Actor, token: string, password: string): Promise<{ ok: true } | Failure<ResetPasswordErrorCode>> {
  const weakness = await checkPassword(ctx, ctx.db, password)
  if (weakness) return fail('PASSWORD_TOO_WEAK', weakness.message, weaknessDetails(weakness))
  const hash = await ctx.passwords.hash(password)
  const outcome = await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select({ id: personToken.id, personId: personToken.personId, expiresAt: personToken.expiresAt, usedAt: personToken.usedAt })
      .from(personToken)
      .where(and(eq(personToken.tokenHash, sha256Hex(token)), eq(personToken.type, RESET_TOKEN_TYPE)))
      .for('update')
    const now = ctx.clock()
    const failure = !row ? fail('TOKEN_NOT_FOUND', 'Token not found')
      : row.usedAt ? fail('TOKEN_USED', `Token used at ${row.usedAt.toISOString()}`)
        : row.expiresAt.getTime() <= now.getTime() ? fail('TOKEN_EXPIRED', `Token expired at ${row.expiresAt.toISOString()}`)
          : undefined
    if (failure) {
      await recordAudit(tx, actor, {
        type: 'password_reset', success: false, errorCode: failure.code, errorMessage: failure.message,
        targetPersonId: row?.personId ?? null, personTokenId: row?.id ?? null,
      })
      return failure
    }
    await tx.update(personToken).set({ usedAt: now }).where(eq(personToken.id, row!.id))
    const [updated] = await tx.update(person).set({ passwordHash: hash }).where(eq(person.id, row!.personId))
      .returning({ identityId: person.identityId, email: person.email })
    const endedSessions = await disableIdentitySessions(tx, updated.identityId, now)
    // Whoever reset the password owns the mailbox: a lockout and the backoff end.
    await resetWrongPasswords(tx, row!.personId)
    await recordAudit(tx, actor, { type: 'password_reset', targetPersonId: row!.personId, personTokenId: row!.id, eventData: { endedSessions } })
    return { ok: true as const, email: updated.email }
  })
  if (!outcome.ok) return outcome
  if (outcome.email) await clearFailedAttempts(ctx, outcome.email)
  return { ok: true as const }
}

export type CheckResetPasswordTokenCode = 'VALID' | 'REQUEST_NOT_FOUND' | 'TOKEN_NOT_FOUND' | 'TOKEN_INVALID' | 'TOKEN_USED' | 'TOKEN_EXPIRED'

/**
 * The state of a reset token, read-only. `requestId` is the token row's id; since the reset mail
 * carries only the token (as Contember's), an empty `requestId` looks the token up by itself.
 * REQUEST_NOT_FOUND: no such request; TOKEN_NOT_FOUND: no such token (empty requestId);
 * TOKEN_INVALID: the token does not belong to the request.
 */
export async function checkResetPasswordToken(ctx: DomainContext, requestId: string, token: string): Promise<CheckResetPasswordTokenCode> {
  const columns = { tokenHash: personToken.tokenHash, expiresAt: personToken.expiresAt, usedAt: personToken.usedAt }
  const tokenHash = sha256Hex(token)
  let row: { tokenHash: string, expiresAt: Date, usedAt: Date | null } | undefined
  if (requestId === '') {
    [row] = await ctx.db.select(columns).from(personToken)
      .where(and(eq(personToken.tokenHash, tokenHash), eq(personToken.type, RESET_TOKEN_TYPE))).limit(1)
    if (!row) return 'TOKEN_NOT_FOUND'
  } else {
    if (!UUID.test(requestId)) return 'REQUEST_NOT_FOUND'
    ;[row] = await ctx.db.select(columns).from(personToken)
      .where(and(eq(personToken.id, requestId), eq(personToken.type, RESET_TOKEN_TYPE))).limit(1)
    if (!row) return 'REQUEST_NOT_FOUND'
    if (!constantTimeEqual(row.tokenHash, tokenHash)) return 'TOKEN_INVALID'
  }
  if (row.usedAt) return 'TOKEN_USED'
  if (row.expiresAt.getTime() <= ctx.clock().getTime()) return 'TOKEN_EXPIRED'
  return 'VALID'
}
