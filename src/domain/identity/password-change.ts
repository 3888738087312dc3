/**
 * changePassword (an admin sets someone's password) and changeMyPassword. Unlike Contember 2.0.8,
 * a changed password ends the person's other sessions: whoever held them no longer knows the
 * password. Errors in Contember's order; both outcomes are audited as `password_change`.
 */
import { eq } from 'drizzle-orm'
import { person } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import { disableIdentitySessions } from '../sessions/api-keys.js'
import { resetWrongPasswords } from '../abuse/login-throttle.js'
import { checkPassword, tooLongToVerify, weaknessDetails } from './password-policy.js'
import { findPersonById, findPersonByIdentity, type AuthorizeTarget, type Failure } from './persons.js'

export type ChangePasswordErrorCode = 'PERSON_NOT_FOUND' | 'TOO_WEAK'
export type ChangeMyPasswordErrorCode = 'NOT_A_PERSON' | 'TOO_WEAK' | 'NO_PASSWORD_SET' | 'INVALID_PASSWORD'

export async function changePassword(
  ctx: DomainContext, actor: Actor, personId: string, password: string, authorize: AuthorizeTarget,
): Promise<{ ok: true } | Failure<ChangePasswordErrorCode>> {
  const target = await findPersonById(ctx.db, personId)
  if (!target) return fail('PERSON_NOT_FOUND', 'Person not found')
  authorize(target.roles)
  const weakness = await checkPassword(ctx, ctx.db, password)
  const hash = weakness ? undefined : await ctx.passwords.hash(password)
  return ctx.db.transaction(async (tx) => {
    if (weakness) {
      await recordAudit(tx, actor, { type: 'password_change', success: false, errorCode: 'TOO_WEAK', errorMessage: weakness.message, targetPersonId: target.id })
      return fail('TOO_WEAK', weakness.message, weaknessDetails(weakness))
    }
    const updated = await tx.update(person).set({ passwordHash: hash }).where(eq(person.id, target.id)).returning({ id: person.id })
    if (updated.length === 0) return fail('PERSON_NOT_FOUND', 'Person not found')
    const endedSessions = await disableIdentitySessions(tx, target.identityId, ctx.clock())
    // A password set by an administrator ends a lockout.
    await resetWrongPasswords(tx, target.id)
    await recordAudit(tx, actor, { type: 'password_change', targetPersonId: target.id, eventData: { endedSessions } })
    return { ok: true as const }
  })
}

export async function changeMyPassword(
  ctx: DomainContext, actor: Actor, caller: { identityId: string, apiKeyId: string },
  currentPassword: string, newPassword: string, authorize: () => void,
): Promise<{ ok: true } | Failure<ChangeMyPasswordErrorCode>> {
  const me = await findPersonByIdentity(ctx.db, caller.identityId)
  if (!me) return fail('NOT_A_PERSON', 'Only a person can change a password')
  authorize()
  const weakness = await checkPassword(ctx, ctx.db, newPassword)
  const check = !weakness && me.passwordHash && !tooLongToVerify(ctx.config, currentPassword)
    ? await ctx.passwords.verify(me.passwordHash, currentPassword)
    : { valid: false }
  const hash = check.valid ? await ctx.passwords.hash(newPassword) : undefined
  return ctx.db.transaction(async (tx) => {
    const failure = weakness ? fail('TOO_WEAK', weakness.message, weaknessDetails(weakness))
      : !me.passwordHash ? fail('NO_PASSWORD_SET', 'No password set')
        : !check.valid ? fail('INVALID_PASSWORD', 'Password does not match')
          : undefined
    if (failure) {
      await recordAudit(tx, actor, { type: 'password_change', success: false, errorCode: failure.code, errorMessage: failure.message, personId: me.id })
      return failure
    }
    await tx.update(person).set({ passwordHash: hash }).where(eq(person.id, me.id))
    // The session that made the change proved the password and stays; every other one ends.
    const endedSessions = await disableIdentitySessions(tx, me.identityId, ctx.clock(), caller.apiKeyId)
    await recordAudit(tx, actor, { type: 'password_change', personId: me.id, eventData: { endedSessions } })
    return { ok: true as const }
  })
}
