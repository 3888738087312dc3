/**
 * The one place where an identity's memberships in a project grow (invite, unmanagedInvite,
 * addProjectMember, updateProjectMember's new roles, createApiKey, createProject, tenant install).
 * The tenant's plan limits are checked here, inside the caller's transaction, under a lock of the
 * tenant row (limits/membership-limits.ts): a grant that takes a seat beyond the limit throws
 * LimitExceededError and the caller's whole transaction rolls back.
 *
 * mode 'append' unions variable values with stored ones (Contember's invite upsert); 'set'
 * replaces the values of the given variables.
 */
import { and, eq, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { projectMembership, projectMembershipVariable } from '../../db/schema.js'
import { withinMembershipLimits, type EnforcedValues } from '../limits/membership-limits.js'
import type { Membership } from './types.js'

export type GrantMode = 'append' | 'set'

async function membershipId(tx: DbOrTx, projectId: string, identityId: string, role: string): Promise<string> {
  const [inserted] = await tx.insert(projectMembership).values({ projectId, identityId, role })
    .onConflictDoNothing({ target: [projectMembership.projectId, projectMembership.identityId, projectMembership.role] })
    .returning({ id: projectMembership.id })
  if (inserted) return inserted.id
  const [existing] = await tx.select({ id: projectMembership.id }).from(projectMembership)
    .where(and(eq(projectMembership.projectId, projectId), eq(projectMembership.identityId, identityId), eq(projectMembership.role, role)))
  return existing.id
}

/**
 * `enforced` is config.traefik.tenantEnforced (TENANT_ENFORCED), part of the effective limits;
 * callers that can only add identities without a person (project API keys) may pass {}.
 */
export async function grantMemberships(
  tx: DbOrTx, projectId: string, identityId: string, memberships: readonly Membership[], mode: GrantMode, enforced: EnforcedValues,
): Promise<void> {
  await withinMembershipLimits(tx, projectId, enforced, () => writeMemberships(tx, projectId, identityId, memberships, mode))
}

async function writeMemberships(tx: DbOrTx, projectId: string, identityId: string, memberships: readonly Membership[], mode: GrantMode): Promise<void> {
  for (const membership of memberships) {
    const id = await membershipId(tx, projectId, identityId, membership.role)
    for (const variable of membership.variables) {
      const values = [...new Set(variable.values)]
      const merged = mode === 'append'
        ? sql`(select coalesce(jsonb_agg(distinct e), '[]'::jsonb) from jsonb_array_elements(${projectMembershipVariable.values} || excluded.value) as e)`
        : sql`excluded.value`
      await tx.insert(projectMembershipVariable).values({ membershipId: id, variable: variable.name, values })
        .onConflictDoUpdate({ target: [projectMembershipVariable.membershipId, projectMembershipVariable.variable], set: { values: merged } })
    }
  }
}
