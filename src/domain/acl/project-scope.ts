/**
 * Contember's project scope: what an identity may do inside one project. The identity's global
 * roles, plus `project_member` (any effective membership) and `project_admin` (an `admin`
 * membership), plus the "direct" permissions of the project ACL's tenant rules, which decide
 * membership actions by matching each target membership against the caller's memberships.
 * super_admin and global project_admin have an implicit `admin` membership in every project.
 * Without a project (missing slug) only the global roles count. A project whose tenant is
 * disabled is, for everyone but global admins, as if it did not exist: its memberships give no
 * rights (reads hide it, mutations are refused), and they count again once it is enabled.
 */
import type { DbOrTx } from '../../db/client.js'
import { membershipsInProject, stripStorage } from '../memberships/queries.js'
import type { Membership } from '../memberships/types.js'
import { projectRoles, type MatchRule, type RoleDefinition, type TenantRules } from '../projects/acl-schema.js'
import { rolesAllow, TenantRole, type Action, type ActionMeta } from './permissions.js'

export interface Caller {
  identityId: string
  roles: readonly string[]
}

export interface ScopeMeta extends ActionMeta {
  /** The memberships an action grants, changes or reveals. */
  memberships?: readonly Membership[]
}

export interface ProjectScope {
  /** The caller's memberships as the scope sees them (implicit admin for global admins). */
  readonly memberships: readonly Membership[]
  allows(action: Action, meta?: ScopeMeta): boolean
  /** Memberships (and variable values) the caller may see, Contember's visibility filtering. */
  visible(memberships: readonly Membership[]): Membership[]
}

const IMPLICIT_ADMIN: readonly Membership[] = [{ role: 'admin', variables: [] }]

export function hasImplicitAdmin(roles: readonly string[]): boolean {
  return roles.includes(TenantRole.SUPER_ADMIN) || roles.includes(TenantRole.PROJECT_ADMIN)
}

/** Which tenant rules of a caller's role grant an action on memberships. */
const RULES_FOR: Partial<Record<Action, (keyof TenantRules)[]>> = {
  'person:invite': ['invite'],
  'person:invite_unmanaged': ['unmanagedInvite'],
  'project:addMember': ['manage'],
  'project:updateMember': ['manage'],
  'project:removeMember': ['manage'],
  'project:viewMembers': ['manage', 'view'],
}

function targetMatches(rule: MatchRule, own: Membership, target: Membership): boolean {
  const targetRule = rule[target.role]
  if (!targetRule) return false
  if (targetRule === true || targetRule.variables === true) return true
  const variableRules = targetRule.variables ?? {}
  return target.variables.every((variable) => {
    const source = variableRules[variable.name]
    if (source === true) return true
    if (typeof source !== 'string') return false
    const ownValues = new Set(own.variables.find((v) => v.name === source)?.values ?? [])
    return variable.values.every((value) => ownValues.has(value))
  })
}

function directlyAllows(roles: Map<string, RoleDefinition>, own: readonly Membership[], action: Action, targets: readonly Membership[]): boolean {
  const ruleNames = RULES_FOR[action]
  if (!ruleNames) return false
  const grants: { own: Membership, rule: MatchRule }[] = []
  for (const membership of own) {
    const tenant = roles.get(membership.role)?.tenant
    for (const name of ruleNames) {
      const rule = tenant?.[name]
      if (rule) grants.push({ own: membership, rule })
    }
  }
  if (grants.length === 0) return false
  return targets.every((target) => grants.some((grant) => targetMatches(grant.rule, grant.own, target)))
}

type ScopedProject = { config: Record<string, unknown>, disabled?: boolean }

/** Whether the caller reaches the project through its memberships: not when its tenant is disabled. */
const reachable = (caller: Caller, project: ScopedProject | null): project is ScopedProject =>
  project !== null && (!project.disabled || hasImplicitAdmin(caller.roles))

export function createProjectScope(caller: Caller, project: ScopedProject | null, stored: readonly Membership[]): ProjectScope {
  if (!reachable(caller, project)) {
    return {
      memberships: [],
      allows: (action, meta = {}) => rolesAllow(caller.roles, action, meta),
      visible: (memberships) => (rolesAllow(caller.roles, 'project:viewMembers') ? memberships.map((m) => ({ ...m })) : []),
    }
  }
  const own = hasImplicitAdmin(caller.roles) ? IMPLICIT_ADMIN : stored
  const scopeRoles: string[] = []
  if (own.length > 0) scopeRoles.push(TenantRole.PROJECT_MEMBER)
  if (own.some((m) => m.role === 'admin')) scopeRoles.push(TenantRole.PROJECT_ADMIN)
  const allRoles = [...caller.roles, ...scopeRoles]
  const acl = projectRoles(project.config)
  const allows = (action: Action, meta: ScopeMeta = {}) =>
    rolesAllow(allRoles, action, meta) || directlyAllows(acl, own, action, meta.memberships ?? [])
  const canView = (membership: Membership) => allows('project:viewMembers', { memberships: [membership] })
  return {
    memberships: own,
    allows,
    visible(memberships) {
      const result: Membership[] = []
      for (const membership of memberships) {
        if (!canView({ role: membership.role, variables: [] })) continue
        let dropped = false
        const variables = membership.variables.map((variable) => {
          const values = variable.values.filter((value) => canView({ role: membership.role, variables: [{ name: variable.name, values: [value] }] }))
          if (variable.values.length > 0 && values.length === 0) dropped = true
          return { name: variable.name, values }
        })
        if (!dropped) result.push({ role: membership.role, variables })
      }
      return result
    },
  }
}

/** The scope of a caller in a project (or the global scope when the project does not exist). */
export async function loadProjectScope(db: DbOrTx, caller: Caller, project: { id: string } & ScopedProject | null): Promise<ProjectScope> {
  const stored = reachable(caller, project) && !hasImplicitAdmin(caller.roles)
    ? (await membershipsInProject(db, project.id, [caller.identityId])).map(stripStorage)
    : []
  return createProjectScope(caller, project, stored)
}
