/**
 * Contember's MembershipResolver checks of requested memberships against the project's ACL, and
 * the INVALID_MEMBERSHIP failure with its developer message, structured `membershipValidation`
 * and the legacy per-issue entries that follow it in the deprecated `errors` list.
 */
import type { RoleDefinition } from '../projects/acl-schema.js'
import type { Membership } from './types.js'

export type MembershipValidationCode = 'ROLE_NOT_FOUND' | 'VARIABLE_NOT_FOUND' | 'VARIABLE_EMPTY' | 'VARIABLE_INVALID'

export interface MembershipValidationIssue {
  code: MembershipValidationCode
  role: string
  variable: string | null
}

const PREDEFINED_VALUES = new Set(['identityID', 'personID'])

function isJsonCondition(value: string): boolean {
  try {
    const parsed: unknown = JSON.parse(value)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
  } catch {
    return false
  }
}

export function validateMemberships(roles: Map<string, RoleDefinition>, memberships: readonly Membership[]): MembershipValidationIssue[] {
  const issues: MembershipValidationIssue[] = []
  for (const membership of memberships) {
    const role = roles.get(membership.role)
    if (!role) {
      issues.push({ code: 'ROLE_NOT_FOUND', role: membership.role, variable: null })
      continue
    }
    for (const variable of membership.variables) {
      const definition = role.variables.get(variable.name)
      if (!definition || definition.type === 'predefined') {
        issues.push({ code: 'VARIABLE_NOT_FOUND', role: membership.role, variable: variable.name })
      } else if (definition.type === 'condition' && !variable.values.every(isJsonCondition)) {
        issues.push({ code: 'VARIABLE_INVALID', role: membership.role, variable: variable.name })
      }
    }
    for (const [name, definition] of role.variables) {
      if (definition.type === 'predefined') {
        if (!PREDEFINED_VALUES.has(definition.value)) issues.push({ code: 'VARIABLE_INVALID', role: membership.role, variable: name })
        continue
      }
      const given = membership.variables.find((v) => v.name === name)
      if ((!given || given.values.length === 0) && !definition.hasFallback) {
        issues.push({ code: 'VARIABLE_EMPTY', role: membership.role, variable: name })
      }
    }
  }
  return issues
}

function describe(issue: MembershipValidationIssue): string {
  switch (issue.code) {
    case 'ROLE_NOT_FOUND': return `Role ${issue.role} is not defined in a schema`
    case 'VARIABLE_EMPTY': return `Variable ${issue.variable} of role ${issue.role} is empty`
    case 'VARIABLE_NOT_FOUND': return `Variable ${issue.variable} of role ${issue.role} is not defined in a schema`
    case 'VARIABLE_INVALID': return `Variable ${issue.variable} of role ${issue.role} contains invalid value`
  }
}

const LEGACY_MESSAGES: Partial<Record<MembershipValidationCode, string>> = {
  ROLE_NOT_FOUND: 'Given role not found',
  VARIABLE_EMPTY: 'Required variable is empty',
  VARIABLE_NOT_FOUND: 'Provided variable does not exist',
}

export interface MembershipErrorEntry {
  code: string
  developerMessage: string
  endUserMessage: string | null
  membershipValidation: MembershipValidationIssue[] | null
}

/** The INVALID_MEMBERSHIP entry followed by one legacy entry per issue (none for VARIABLE_INVALID). */
export function invalidMembershipErrors(issues: readonly MembershipValidationIssue[]): MembershipErrorEntry[] {
  const main: MembershipErrorEntry = {
    code: 'INVALID_MEMBERSHIP',
    developerMessage: `Provided membership is invalid: ${issues.map(describe).join('. ')}. You can also check membershipValidation field for structured details.`,
    endUserMessage: null,
    membershipValidation: [...issues],
  }
  const legacy = issues.flatMap((issue): MembershipErrorEntry[] => {
    const endUserMessage = LEGACY_MESSAGES[issue.code]
    return endUserMessage ? [{ code: issue.code, developerMessage: describe(issue), endUserMessage, membershipValidation: null }] : []
  })
  return [main, ...legacy]
}
