/**
 * The one place where an identity's memberships in a project grow (invite, unmanagedInvite,
 * addProjectMember, updateProjectMember's new roles, createApiKey, createProject). A limit on
 * membership growth (tenant plan limits) belongs here, inside the caller's transaction.
 *
 * mode 'append' unions variable values with stored ones (Contember's invite upsert); 'set'
 * replaces the values of the given variables.
 */
import { and, eq, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { projectMembership, projectMembershipVariable } from '../../db/schema.js'
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

export async function grantMemberships(tx: DbOrTx, projectId: string, identityId: string, memberships: readonly Membership[], mode: GrantMode): Promise<void> {
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
