/**
 * disablePerson: marks the person disabled and disables every API key of its identity
 * (sessions and permanent keys, as Contember). Contember's messages, including its typo
 * "Person is already disable".
 */
import { eq } from 'drizzle-orm'
import { person } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import { disableIdentityKeys } from '../sessions/api-keys.js'
import { findPersonById, type AuthorizeTarget, type Failure } from './persons.js'

export type DisablePersonErrorCode = 'PERSON_NOT_FOUND' | 'PERSON_ALREADY_DISABLED'

export async function disablePerson(
  ctx: DomainContext, actor: Actor, personId: string, authorize: AuthorizeTarget,
): Promise<{ ok: true } | Failure<DisablePersonErrorCode>> {
  return ctx.db.transaction(async (tx) => {
    const target = await findPersonById(tx, personId, true)
    if (!target) return fail('PERSON_NOT_FOUND', `Person <${personId}> was not found`)
    authorize(target.roles)
    if (target.disabledAt) {
      await recordAudit(tx, actor, {
        type: 'person_disable', success: false, errorCode: 'PERSON_ALREADY_DISABLED', errorMessage: 'Person is already disable', targetPersonId: target.id,
      })
      return fail('PERSON_ALREADY_DISABLED', 'Person is already disable')
    }
    const now = ctx.clock()
    await tx.update(person).set({ disabledAt: now }).where(eq(person.id, target.id))
    const disabledKeys = await disableIdentityKeys(tx, target.identityId, now)
    await recordAudit(tx, actor, { type: 'person_disable', targetPersonId: target.id, eventData: { disabledKeys } })
    return { ok: true as const }
  })
}
