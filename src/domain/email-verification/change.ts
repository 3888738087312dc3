/**
 * Confirmed e-mail change (2.2, config emailChange.requireVerification): a person's own change
 * of address (changeMyProfile) does not swap it; a token goes to the new address and the old one
 * stays until confirmEmailChange spends the token. Confirming swaps the address (now verified),
 * ends every session of the person and tells the old address. Off by default (2.0.8 behaviour:
 * the address changes at once).
 */
import { eq } from 'drizzle-orm'
import type { DbOrTx, Tx } from '../../db/client.js'
import { person } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import { readTenantConfig } from '../config/tenant-config.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { isValidEmail } from '../identity/email.js'
import { emailInUse, isUniqueViolation } from '../identity/persons.js'
import { sendTemplatedMail } from '../mail/index.js'
import { preferredMailProject } from '../passwordless/mail-project.js'
import { disableIdentitySessions } from '../sessions/api-keys.js'
import { issueEmailToken, lockEmailToken, markEmailTokenUsed, type EmailTokenErrorCode } from './tokens.js'

/** Whether a self-service e-mail change waits for confirmation (Config.emailChange.requireVerification). */
export async function emailChangeNeedsConfirmation(db: DbOrTx): Promise<boolean> {
  return (await readTenantConfig(db)).emailChange.requireVerification
}

export interface EmailChangeTarget {
  id: string
  identityId: string
  email: string | null
  roles: readonly string[]
}

/** Inside the profile change's transaction: mails the confirmation token to the new address. */
export async function startEmailChange(ctx: DomainContext, tx: Tx, actor: Actor, target: EmailChangeTarget, newEmail: string): Promise<void> {
  const issued = await issueEmailToken(ctx, tx, target.id, 'email_change', { newEmail, oldEmail: target.email })
  const project = await preferredMailProject(tx, target.identityId, target.roles, null)
  await sendTemplatedMail(ctx, tx, {
    type: 'EMAIL_CHANGE_VERIFY', to: newEmail, projectId: project?.id ?? null,
    variables: { email: newEmail, oldEmail: target.email, token: issued.token, project: project?.name, projectSlug: project?.slug },
  })
  await recordAudit(tx, actor, {
    type: 'email_change_init', targetPersonId: target.id, personTokenId: issued.id, personInputIdentifier: newEmail,
    eventData: { expiresAt: issued.expiresAt.toISOString() },
  })
}

export type ConfirmEmailChangeCode = EmailTokenErrorCode | 'EMAIL_ALREADY_EXISTS' | 'INVALID_EMAIL_FORMAT'

class EmailTaken extends Error {}

export async function confirmEmailChange(ctx: DomainContext, actor: Actor, token: string): Promise<Result<null, ConfirmEmailChangeCode>> {
  try {
    return await ctx.db.transaction(async (tx) => {
      const locked = await lockEmailToken(ctx, tx, token, 'email_change')
      const failed = async (code: ConfirmEmailChangeCode, message: string) => {
        await recordAudit(tx, actor, {
          type: 'email_change_complete', success: false, errorCode: code, errorMessage: message,
          targetPersonId: locked.row?.personId ?? null, personTokenId: locked.row?.id ?? null,
        })
        return fail(code, message)
      }
      if (!locked.verdict.ok) return failed(locked.verdict.code, locked.verdict.message)
      const row = locked.verdict.value
      const newEmail = String(row.payload?.newEmail ?? '')
      const oldEmail = (row.payload?.oldEmail ?? null) as string | null
      const [target] = await tx.select({ identityId: person.identityId, email: person.email, disabledAt: person.disabledAt })
        .from(person).where(eq(person.id, row.personId)).for('update')
      // The request was made for the address the account had then; a change since voids it.
      if (!target || target.disabledAt || target.email !== oldEmail) return failed('TOKEN_INVALID', 'The account changed since the e-mail change was requested')
      if (!isValidEmail(newEmail)) return failed('INVALID_EMAIL_FORMAT', 'E-mail address is not in a valid format')
      if (await emailInUse(tx, newEmail, row.personId)) return failed('EMAIL_ALREADY_EXISTS', `User with email ${newEmail} already exists`)

      const now = ctx.clock()
      await tx.update(person).set({ email: newEmail, emailVerifiedAt: now }).where(eq(person.id, row.personId))
        .catch((error: unknown) => { throw isUniqueViolation(error) ? new EmailTaken() : error })
      await markEmailTokenUsed(ctx, tx, row.id)
      const signedOutSessions = await disableIdentitySessions(tx, target.identityId, now)
      if (oldEmail) {
        await sendTemplatedMail(ctx, tx, { type: 'EMAIL_CHANGE_NOTIFY', to: oldEmail, variables: { email: oldEmail, oldEmail, newEmail } })
      }
      await recordAudit(tx, actor, {
        type: 'email_change_complete', targetPersonId: row.personId, personTokenId: row.id, personInputIdentifier: newEmail,
        eventData: { signedOutSessions },
      })
      return ok(null)
    })
  } catch (error) {
    // A concurrent change took the address between the check and the update.
    if (error instanceof EmailTaken) return fail('EMAIL_ALREADY_EXISTS', 'The new e-mail address is already in use')
    throw error
  }
}
