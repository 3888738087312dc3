/**
 * updateProjectMember and removeProjectMember on stored memberships. An update only touches what
 * the caller can see: listed roles replace the visible values, visible roles not listed lose their
 * visible values, and values the caller cannot see are kept. A role whose variable ends up empty
 * (or a variable-less role that is no longer listed) is deleted, as in Contember.
 */
import { and, eq, inArray } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { projectMembership } from '../../db/schema.js'
import type { EnforcedValues } from '../limits/membership-limits.js'
import { grantMemberships } from './grant.js'
import type { Membership, MembershipVariable } from './types.js'

export interface MembershipPlan {
  /** Final memberships per role; a role mapped to null is deleted. */
  roles: Map<string, MembershipVariable[] | null>
  /** What changed, for the access check and the audit log (removed and appended values per variable). */
  diff: Membership[]
}

const valuesOf = (membership: Membership | undefined, name: string) => membership?.variables.find((v) => v.name === name)?.values ?? []

export function planMembershipUpdate(stored: readonly Membership[], visible: readonly Membership[], requested: readonly Membership[]): MembershipPlan {
  const roles = new Map<string, MembershipVariable[] | null>()
  const diff: Membership[] = []
  const allRoles = new Set([...visible.map((m) => m.role), ...requested.map((m) => m.role)])
  for (const role of allRoles) {
    const storedMembership = stored.find((m) => m.role === role)
    const visibleMembership = visible.find((m) => m.role === role)
    const wanted = requested.find((m) => m.role === role)
    const names = new Set([...(storedMembership?.variables ?? []), ...(wanted?.variables ?? [])].map((v) => v.name))
    const variables: MembershipVariable[] = []
    const changes: MembershipVariable[] = []
    let emptied = false
    for (const name of names) {
      const storedValues = valuesOf(storedMembership, name)
      const visibleValues = new Set(valuesOf(visibleMembership, name))
      const wantedValues = [...new Set(valuesOf(wanted, name))]
      const hidden = storedValues.filter((v) => !visibleValues.has(v))
      const values = [...new Set([...hidden, ...wantedValues])]
      const removed = [...visibleValues].filter((v) => !wantedValues.includes(v))
      const appended = wantedValues.filter((v) => !visibleValues.has(v))
      if (removed.length || appended.length) changes.push({ name, values: [...removed, ...appended] })
      if (values.length === 0 && storedValues.length > 0) emptied = true
      variables.push({ name, values })
    }
    if (!wanted && visibleMembership) {
      // A visible role that is not listed any more loses what the caller sees of it.
      const remaining = variables.filter((v) => v.values.length > 0)
      const keep = remaining.length > 0 && !emptied
      roles.set(role, keep ? variables : null)
      diff.push({ role, variables: changes })
      continue
    }
    roles.set(role, emptied ? null : variables)
    if (!storedMembership || changes.length > 0 || emptied) diff.push({ role, variables: storedMembership ? changes : wanted?.variables ?? [] })
  }
  return { roles, diff }
}

export async function applyMembershipPlan(tx: DbOrTx, projectId: string, identityId: string, plan: MembershipPlan, enforced: EnforcedValues): Promise<void> {
  const deleted = [...plan.roles].filter(([, variables]) => variables === null).map(([role]) => role)
  if (deleted.length > 0) {
    await tx.delete(projectMembership).where(and(
      eq(projectMembership.projectId, projectId), eq(projectMembership.identityId, identityId), inArray(projectMembership.role, deleted),
    ))
  }
  const kept: Membership[] = [...plan.roles]
    .filter((entry): entry is [string, MembershipVariable[]] => entry[1] !== null)
    .map(([role, variables]) => ({ role, variables }))
  await grantMemberships(tx, projectId, identityId, kept, 'set', enforced)
}

/** Deletes every membership of the identity in the project; false when there was none. */
export async function removeAllMemberships(tx: DbOrTx, projectId: string, identityId: string): Promise<boolean> {
  const removed = await tx.delete(projectMembership)
    .where(and(eq(projectMembership.projectId, projectId), eq(projectMembership.identityId, identityId)))
    .returning({ id: projectMembership.id })
  return removed.length > 0
}

