/**
 * A project's roles and their tenant rules, read from `project.config` in the shape of Contember's
 * ACL schema:
 *
 *   config.acl.roles.<role>.variables.<name> = { type: 'entity', entityName, fallback? }
 *                                            | { type: 'condition', fallback? }
 *                                            | { type: 'predefined', value: 'identityID' | 'personID' }
 *   config.acl.roles.<role>.tenant = { invite?, unmanagedInvite?, manage?, view? }
 *       each a MembershipMatchRule { <targetRole>: true | { variables?: true | { <targetVar>: true | '<ownVar>' } } };
 *       invite / unmanagedInvite may also be `true`, meaning "the manage rule".
 *
 * The roles admin, content_admin and deployer always exist (without variables) unless the config
 * defines them itself. Malformed entries are ignored rather than failing every request.
 */
export type VariableRule = true | string
export type TargetRule = true | { variables?: true | Record<string, VariableRule> }
export type MatchRule = Record<string, TargetRule>

export interface TenantRules {
  invite?: MatchRule
  unmanagedInvite?: MatchRule
  manage?: MatchRule
  view?: MatchRule
}

export type VariableDefinition =
  | { type: 'entity', entityName: string, hasFallback: boolean }
  | { type: 'condition', hasFallback: boolean }
  | { type: 'predefined', value: string }

export interface RoleDefinition {
  name: string
  variables: Map<string, VariableDefinition>
  tenant: TenantRules
}

export const BUILT_IN_ROLES = ['admin', 'content_admin', 'deployer'] as const

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function parseMatchRule(raw: unknown): MatchRule | undefined {
  if (!isObject(raw)) return undefined
  const rule: MatchRule = {}
  for (const [role, target] of Object.entries(raw)) {
    if (target === true) rule[role] = true
    else if (isObject(target)) {
      const variables = target.variables
      if (variables === true) rule[role] = { variables: true }
      else if (isObject(variables)) {
        const parsed: Record<string, VariableRule> = {}
        for (const [name, source] of Object.entries(variables)) {
          if (source === true || typeof source === 'string') parsed[name] = source
        }
        rule[role] = { variables: parsed }
      } else rule[role] = {}
    }
  }
  return rule
}

function parseTenantRules(raw: unknown): TenantRules {
  if (!isObject(raw)) return {}
  const manage = parseMatchRule(raw.manage)
  // `true` for the invite rules means "whatever manage allows".
  const inviteRule = (value: unknown) => (value === true ? manage ?? {} : parseMatchRule(value))
  return { manage, view: parseMatchRule(raw.view), invite: inviteRule(raw.invite), unmanagedInvite: inviteRule(raw.unmanagedInvite) }
}

function parseVariables(raw: unknown): Map<string, VariableDefinition> {
  const variables = new Map<string, VariableDefinition>()
  if (!isObject(raw)) return variables
  for (const [name, definition] of Object.entries(raw)) {
    if (!isObject(definition)) continue
    const hasFallback = definition.fallback !== undefined && definition.fallback !== null
    if (definition.type === 'predefined' && typeof definition.value === 'string') variables.set(name, { type: 'predefined', value: definition.value })
    else if (definition.type === 'condition') variables.set(name, { type: 'condition', hasFallback })
    else if (definition.type === 'entity' || definition.type === undefined) {
      variables.set(name, { type: 'entity', entityName: typeof definition.entityName === 'string' ? definition.entityName : '', hasFallback })
    }
  }
  return variables
}

/** The project's roles in order: built-ins first, then the config's own. */
export function projectRoles(config: Record<string, unknown> | null | undefined): Map<string, RoleDefinition> {
  const acl = isObject(config?.acl) ? config.acl : {}
  const configured = isObject(acl.roles) ? acl.roles : {}
  const roles = new Map<string, RoleDefinition>()
  for (const name of BUILT_IN_ROLES) roles.set(name, { name, variables: new Map(), tenant: {} })
  for (const [name, raw] of Object.entries(configured)) {
    if (!isObject(raw)) continue
    roles.set(name, { name, variables: parseVariables(raw.variables), tenant: parseTenantRules(raw.tenant) })
  }
  return roles
}
