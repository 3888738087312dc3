/**
 * changeProfile (an admin edits someone) and changeMyProfile (a person edits themself). Fixes
 * Contember's bug of storing the new e-mail un-normalized (after which the person could not sign
 * in with it). `name: ""` clears the name; an omitted field is left alone; an explicit
 * `email: null` is INVALID_EMAIL_FORMAT, as Contember.
 */
import { eq } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { person } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import { emailChangeNeedsConfirmation, startEmailChange } from '../email-verification/change.js'
import { isValidEmail, normalizeEmail } from './email.js'
import { emailInUse, findPersonById, findPersonByIdentity, isUniqueViolation, type AuthorizeTarget, type Failure, type PersonRecord } from './persons.js'

export interface ProfileInput {
  /** undefined = keep, null = refused (INVALID_EMAIL_FORMAT). */
  email?: string | null
  /** undefined = keep, "" or null = clear. */
  name?: string | null
}

type ProfileErrorCode = 'INVALID_EMAIL_FORMAT' | 'EMAIL_ALREADY_EXISTS'
export type ChangeProfileErrorCode = 'PERSON_NOT_FOUND' | ProfileErrorCode
export type ChangeMyProfileErrorCode = 'NOT_A_PERSON' | ProfileErrorCode

class EmailTaken extends Error {}

export async function changeProfile(
  ctx: DomainContext, actor: Actor, personId: string, input: ProfileInput, authorize: AuthorizeTarget,
): Promise<{ ok: true } | Failure<ChangeProfileErrorCode>> {
  return applyProfile(ctx, actor, input, async (tx) => {
    const target = await findPersonById(tx, personId, true)
    return target ? { target } : { failure: fail('PERSON_NOT_FOUND' as const, 'Person not found') }
  }, authorize)
}

export async function changeMyProfile(
  ctx: DomainContext, actor: Actor, identityId: string, input: ProfileInput, authorize: () => void,
): Promise<{ ok: true } | Failure<ChangeMyProfileErrorCode>> {
  return applyProfile(ctx, actor, input, async (tx) => {
    const target = await findPersonByIdentity(tx, identityId, true)
    return target ? { target } : { failure: fail('NOT_A_PERSON' as const, 'Only a person can change a profile.') }
  }, () => authorize(), true)
}

async function applyProfile<C extends string>(
  ctx: DomainContext, actor: Actor, input: ProfileInput,
  load: (tx: Tx) => Promise<{ target: PersonRecord } | { failure: Failure<C> }>,
  authorize: AuthorizeTarget,
  /** 2.2: a self-service change may wait for confirmation by mail (Config.emailChange). */
  selfService = false,
): Promise<{ ok: true } | Failure<C | ProfileErrorCode>> {
  const email = input.email
  try {
    return await ctx.db.transaction(async (tx) => {
      const loaded = await load(tx)
      if ('failure' in loaded) return loaded.failure
      const { target } = loaded
      if (email === null) return fail('INVALID_EMAIL_FORMAT', 'E-mail address cannot be null.')
      authorize(target.roles)

      const newEmail = email === undefined ? undefined : normalizeEmail(email)
      const emailChanges = newEmail !== undefined && newEmail !== target.email
      const audit = (success: boolean, errorCode?: string, errorMessage?: string) => recordAudit(tx, actor, {
        type: emailChanges ? 'email_change' : 'profile_change', success, errorCode, errorMessage,
        targetPersonId: target.id, personInputIdentifier: email ?? null,
        eventData: { emailChanged: emailChanges, nameChanged: input.name !== undefined },
      })
      if (emailChanges) {
        const invalid = !isValidEmail(email!.trim()) ? fail('INVALID_EMAIL_FORMAT', 'E-mail address is not in a valid format')
          : await emailInUse(tx, email!, target.id) ? fail('EMAIL_ALREADY_EXISTS', `User with email ${email} already exists`)
            : undefined
        if (invalid) {
          await audit(false, invalid.code, invalid.message)
          return invalid
        }
      }
      const confirmByMail = emailChanges && selfService && await emailChangeNeedsConfirmation(tx)
      const changes: { email?: string, emailVerifiedAt?: null, name?: string | null } = {}
      // A new address is not verified; a confirmed change waits for confirmEmailChange instead.
      if (emailChanges && !confirmByMail) Object.assign(changes, { email: newEmail, emailVerifiedAt: null })
      if (confirmByMail) await startEmailChange(ctx, tx, actor, target, newEmail!)
      if (input.name !== undefined) changes.name = input.name === '' ? null : input.name
      if (Object.keys(changes).length > 0) {
        const updated = await tx.update(person).set(changes).where(eq(person.id, target.id)).returning({ id: person.id })
          .catch((error: unknown) => { throw isUniqueViolation(error) ? new EmailTaken() : error })
        if (updated.length === 0) throw new Error('person vanished during profile change')
      }
      await audit(true)
      return { ok: true as const }
    })
  } catch (error) {
    if (error instanceof EmailTaken) return fail('EMAIL_ALREADY_EXISTS', `User with email ${email} already exists`)
    throw error
  }
}
