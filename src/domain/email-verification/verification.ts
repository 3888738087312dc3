/**
 * E-mail verification (2.2): requestEmailVerification mails a token to an existing, enabled,
 * not yet verified address; verifyEmail spends it and sets person.email_verified_at. The
 * request answers ok whether or not an address has an account; only the per-IP limit
 * (rateLimits.emailVerificationPerIp) and the captcha (captcha.protect.emailVerification)
 * refuse it, before anything is looked up.
 */
import { eq, inArray } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { person } from '../../db/schema.js'
import { publicFlowFailure } from '../abuse/guard.js'
import { recordAudit } from '../audit/record.js'
import { readTenantConfig } from '../config/tenant-config.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { findPersonByEmail } from '../identity/persons.js'
import { sendTemplatedMail } from '../mail/index.js'
import { preferredMailProject } from '../passwordless/mail-project.js'
import { issueEmailToken, lockEmailToken, markEmailTokenUsed, type EmailTokenErrorCode } from './tokens.js'

export interface EmailMailOptions {
  mailProject?: string | null
  mailVariant?: string | null
}

export async function requestEmailVerification(
  ctx: DomainContext, actor: Actor, email: string, options: EmailMailOptions = {}, captchaToken?: string | null,
): Promise<Result<null, 'RATE_LIMIT_EXCEEDED' | 'INVALID_CAPTCHA'>> {
  const refused = await publicFlowFailure(ctx, actor, await readTenantConfig(ctx.db), 'emailVerificationPerIp', 'emailVerification', captchaToken)
  if (refused) return refused
  return ctx.db.transaction(async (tx) => {
    const found = await findPersonByEmail(tx, email, true)
    const [row] = found ? await tx.select({ verifiedAt: person.emailVerifiedAt }).from(person).where(eq(person.id, found.id)) : []
    const eligible = Boolean(found?.email && !found.disabledAt && !row?.verifiedAt)
    if (found?.email && eligible) {
      const issued = await issueEmailToken(ctx, tx, found.id, 'email_verification', { email: found.email })
      const project = await preferredMailProject(tx, found.identityId, found.roles, options.mailProject)
      await sendTemplatedMail(ctx, tx, {
        type: 'EMAIL_VERIFICATION', to: found.email, projectId: project?.id ?? null, variant: options.mailVariant || '',
        variables: { email: found.email, token: issued.token, project: project?.name, projectSlug: project?.slug },
      })
      await recordAudit(tx, actor, {
        type: 'email_verify_init', personId: found.id, personTokenId: issued.id, personInputIdentifier: email,
        eventData: { expiresAt: issued.expiresAt.toISOString() },
      })
    } else {
      // Nothing is sent (unknown, disabled or already verified); the audit line says why, the caller is not told.
      const reason = !found ? 'unknown_email' : found.disabledAt ? 'person_disabled' : 'already_verified'
      await recordAudit(tx, actor, { type: 'email_verify_init', personId: found?.id ?? null, personInputIdentifier: email, eventData: { sent: false, reason } })
    }
    return ok(null)
  })
}

export async function verifyEmail(ctx: DomainContext, actor: Actor, token: string): Promise<Result<null, EmailTokenErrorCode>> {
  return ctx.db.transaction(async (tx) => {
    const locked = await lockEmailToken(ctx, tx, token, 'email_verification')
    const failed = async (code: EmailTokenErrorCode, message: string) => {
      await recordAudit(tx, actor, {
        type: 'email_verify_complete', success: false, errorCode: code, errorMessage: message,
        personId: locked.row?.personId ?? null, personTokenId: locked.row?.id ?? null,
      })
      return fail(code, message)
    }
    if (!locked.verdict.ok) return failed(locked.verdict.code, locked.verdict.message)
    const row = locked.verdict.value
    const [target] = await tx.select({ email: person.email, disabledAt: person.disabledAt }).from(person).where(eq(person.id, row.personId)).for('update')
    // The token proves the address it was sent to; if the account's address changed since, it proves nothing.
    if (!target || target.disabledAt || target.email !== row.payload?.email) return failed('TOKEN_INVALID', 'The token does not match the current e-mail address of the account')
    await tx.update(person).set({ emailVerifiedAt: ctx.clock() }).where(eq(person.id, row.personId))
    await markEmailTokenUsed(ctx, tx, row.id)
    await recordAudit(tx, actor, { type: 'email_verify_complete', personId: row.personId, personTokenId: row.id })
    return ok(null)
  })
}

/** emailVerified per person id (batched for the Person type). */
export async function emailVerifiedByPersonIds(db: DbOrTx, personIds: readonly string[]): Promise<Map<string, boolean>> {
  if (personIds.length === 0) return new Map()
  const rows = await db.select({ id: person.id, verifiedAt: person.emailVerifiedAt }).from(person).where(inArray(person.id, [...new Set(personIds)]))
  return new Map(rows.map((row) => [row.id, row.verifiedAt !== null]))
}
