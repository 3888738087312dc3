/**
 * Which auth policies apply to a person, and what they add up to (the enforcement side of
 * policies.ts). A policy applies when one of its roles is a global role of the person's identity
 * (scope global) or one of the identity's membership roles in the policy's project (scope
 * project). Applicable policies combine strictest-wins: mfaRequired if any requires it; the
 * shortest tokenExpiration, idleTimeout and mfaGraceDuration; rememberMeAllowed false if any
 * says false. No applicable policy is the inert baseline (NO_POLICY): everything as without
 * policies.
 *
 * Every sign-in reads the policy list, so it comes from a per-process cache: a change on this
 * node applies at once, one on another node within AUTH_POLICY_CACHE_MS. With no policies at all,
 * a sign-in costs no extra round trip.
 */
import { eq } from 'drizzle-orm'
import type { Db, DbOrTx } from '../../db/client.js'
import { authPolicy, identity, person, projectMembership } from '../../db/schema.js'
import { intervalMs } from '../config/interval.js'

export interface EffectivePolicy {
  /** The applicable policies, for the audit log; empty when none applies. */
  policyIds: string[]
  mfaRequired: boolean
  tokenExpirationMs: number | null
  idleTimeoutMs: number | null
  mfaGraceMs: number | null
  rememberMeAllowed: boolean | null
}

export const NO_POLICY: EffectivePolicy = {
  policyIds: [], mfaRequired: false, tokenExpirationMs: null, idleTimeoutMs: null, mfaGraceMs: null, rememberMeAllowed: null,
}

/** A stored policy as enforcement reads it. */
export interface PolicyRule {
  id: string
  scope: 'global' | 'project'
  projectId: string | null
  roles: string[]
  mfaRequired: boolean | null
  tokenExpirationMs: number | null
  idleTimeoutMs: number | null
  mfaGraceMs: number | null
  rememberMeAllowed: boolean | null
}

const ms = (value: unknown) => (typeof value === 'string' ? intervalMs(value) : null)

function toRule(id: string, definition: Record<string, unknown>): PolicyRule {
  return {
    id,
    scope: definition.scope === 'project' ? 'project' : 'global',
    projectId: typeof definition.projectId === 'string' ? definition.projectId : null,
    roles: Array.isArray(definition.roles) ? definition.roles.filter((role): role is string => typeof role === 'string') : [],
    mfaRequired: typeof definition.mfaRequired === 'boolean' ? definition.mfaRequired : null,
    tokenExpirationMs: ms(definition.tokenExpiration),
    idleTimeoutMs: ms(definition.idleTimeout),
    mfaGraceMs: ms(definition.mfaGraceDuration),
    rememberMeAllowed: typeof definition.rememberMeAllowed === 'boolean' ? definition.rememberMeAllowed : null,
  }
}

export const AUTH_POLICY_CACHE_MS = 5_000
const cached = new WeakMap<Db, { rules: Promise<PolicyRule[]>, at: number, generation: number }>()
let generation = 0

/** Forgets the cached policies of this process (policy changes call it, in and after their transaction). */
export function invalidateAuthPolicyCache(): void {
  generation++
}

/** The policies, read at most once per AUTH_POLICY_CACHE_MS per database; never inside a transaction. */
export function cachedPolicyRules(db: Db, nowMs = Date.now()): Promise<PolicyRule[]> {
  const entry = cached.get(db)
  if (entry && entry.generation === generation && nowMs - entry.at < AUTH_POLICY_CACHE_MS) return entry.rules
  const rules = db.select({ id: authPolicy.id, definition: authPolicy.definition }).from(authPolicy)
    .then((rows) => rows.map((row) => toRule(row.id, row.definition)))
  const fresh = { rules, at: nowMs, generation }
  cached.set(db, fresh)
  // A failed read is not kept: the next caller tries again.
  rules.catch(() => { if (cached.get(db) === fresh) cached.delete(db) })
  return rules
}

const shortest = (current: number | null, candidate: number | null) =>
  candidate === null ? current : current === null ? candidate : Math.min(current, candidate)

/** Strictest-wins combination of the given (applicable) policies. */
export function combinePolicies(rules: readonly PolicyRule[]): EffectivePolicy {
  const effective: EffectivePolicy = { ...NO_POLICY, policyIds: [] }
  for (const rule of rules) {
    effective.policyIds.push(rule.id)
    if (rule.mfaRequired === true) effective.mfaRequired = true
    effective.tokenExpirationMs = shortest(effective.tokenExpirationMs, rule.tokenExpirationMs)
    effective.idleTimeoutMs = shortest(effective.idleTimeoutMs, rule.idleTimeoutMs)
    effective.mfaGraceMs = shortest(effective.mfaGraceMs, rule.mfaGraceMs)
    if (rule.rememberMeAllowed === false) effective.rememberMeAllowed = false
    else if (rule.rememberMeAllowed === true && effective.rememberMeAllowed === null) effective.rememberMeAllowed = true
  }
  return effective
}

/**
 * The effective policy of the person, given the policy list (cachedPolicyRules, read before the
 * caller's transaction). One query for the roles when there are policies, none otherwise.
 */
export async function effectivePolicy(db: DbOrTx, rules: readonly PolicyRule[], personId: string): Promise<EffectivePolicy> {
  if (rules.length === 0) return NO_POLICY
  const rows = await db.select({ globalRoles: identity.roles, projectId: projectMembership.projectId, role: projectMembership.role })
    .from(person)
    .innerJoin(identity, eq(identity.id, person.identityId))
    .leftJoin(projectMembership, eq(projectMembership.identityId, identity.id))
    .where(eq(person.id, personId))
  if (rows.length === 0) return NO_POLICY
  const globalRoles = new Set(rows[0].globalRoles)
  const projectRoles = new Set(rows.filter((row) => row.projectId !== null).map((row) => `${row.projectId} ${row.role}`))
  const applies = (rule: PolicyRule) => rule.scope === 'global'
    ? rule.roles.some((role) => globalRoles.has(role))
    : rule.projectId !== null && rule.roles.some((role) => projectRoles.has(`${rule.projectId} ${role}`))
  return combinePolicies(rules.filter(applies))
}
