/**
 * enableMyPasswordless / disableMyPasswordless: a person's own choice, which only matters under
 * the optIn / optOut policies; under always / never it is refused with CANNOT_TOGGLE.
 */
import { eq } from 'drizzle-orm'
import { person } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import { readTenantConfig } from '../config/tenant-config.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'

export async function toggleMyPasswordless(ctx: DomainContext, actor: Actor, personId: string, enabled: boolean): Promise<Result<null, 'CANNOT_TOGGLE'>> {
  return ctx.db.transaction(async (tx) => {
    const { passwordless } = await readTenantConfig(tx)
    if (passwordless.enabled === 'always' || passwordless.enabled === 'never') {
      return fail('CANNOT_TOGGLE', 'Passwordless is configured globally and cannot be toggled')
    }
    await tx.update(person).set({ passwordlessEnabled: enabled }).where(eq(person.id, personId))
    await recordAudit(tx, actor, { type: 'passwordless_toggle', personId, eventData: { enabled, policy: passwordless.enabled } })
    return ok(null)
  })
}
