/**
 * addGlobalIdentityRoles / removeGlobalIdentityRoles: a patch of the identity's global roles
 * (distinct union minus the removed ones), validated against the eight TenantRoles. The row is
 * locked, so two concurrent patches never lose each other's roles.
 */
import { eq, sql } from 'drizzle-orm'
import { identity } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { TENANT_ROLES } from '../acl/permissions.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import { UUID } from './queries.js'
import type { Failure } from './persons.js'

export type GlobalRolesErrorCode = 'IDENTITY_NOT_FOUND' | 'INVALID_ROLE'

export async function patchGlobalRoles(
  ctx: DomainContext, actor: Actor, identityId: string, change: { add?: readonly string[], remove?: readonly string[] },
): Promise<{ ok: true, identity: { id: string, roles: string[], description: string | null } } | Failure<GlobalRolesErrorCode>> {
  const invalid = [...(change.add ?? []), ...(change.remove ?? [])].find((role) => !TENANT_ROLES.includes(role))
  if (invalid !== undefined) return fail('INVALID_ROLE', `Role ${invalid} is not valid or globally assignable`)
  const notFound = fail('IDENTITY_NOT_FOUND', `Identity ${identityId} not found`)
  if (!UUID.test(identityId)) return notFound
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select({ roles: identity.roles, description: identity.description }).from(identity)
      .where(eq(identity.id, identityId)).for('update')
    if (!row) return notFound
    const removed = new Set(change.remove ?? [])
    const roles = [...new Set([...row.roles, ...(change.add ?? [])])].filter((role) => !removed.has(role))
    await tx.update(identity).set({ roles: sql`${JSON.stringify(roles)}::jsonb` }).where(eq(identity.id, identityId))
    await recordAudit(tx, actor, {
      type: change.add ? 'global_role_grant' : 'global_role_revoke',
      eventData: { identityId, before: { roles: row.roles }, after: { roles } },
    })
    return { ok: true as const, identity: { id: identityId, roles, description: row.description } }
  })
}
