/**
 * Auth policies (2.2): per-role MFA / session settings, global or for one project, stored in
 * auth_policy as a JSON definition; validated, listed and audited here. effective.ts decides which
 * apply to a person and combines them; sign-in paths and authentication enforce the result. With
 * no rows, sign-in behaves exactly as without policies, as 2.2 promises.
 */
import { randomUUID } from 'node:crypto'
import { asc, eq } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { authPolicy } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { DomainError, fail } from '../errors.js'
import type { Failure } from '../identity/persons.js'
import { UUID } from '../identity/queries.js'
import { projectBySlug } from '../projects/queries.js'
import { invalidateAuthPolicyCache } from './effective.js'

export interface AuthPolicyInput {
  scope: 'global' | 'project'
  project?: string | null
  roles: readonly string[]
  mfaRequired?: boolean | null
  tokenExpiration?: string | null
  idleTimeout?: string | null
  mfaGraceDuration?: string | null
  rememberMeAllowed?: boolean | null
}

export interface AuthPolicy {
  id: string
  scope: 'global' | 'project'
  /** Project slug for project-scoped policies. */
  project: string | null
  roles: string[]
  mfaRequired: boolean | null
  tokenExpiration: string | null
  idleTimeout: string | null
  mfaGraceDuration: string | null
  rememberMeAllowed: boolean | null
}

type Definition = Omit<AuthPolicy, 'id'> & { projectId: string | null }

export type AuthPolicyProjectErrorCode = 'PROJECT_REQUIRED' | 'PROJECT_NOT_ALLOWED' | 'PROJECT_NOT_FOUND'

const ROLE = /^[A-Za-z0-9_:.-]{1,100}$/
const MAX_ROLES = 100
/** ISO 8601 duration with no non-zero component: P0D, PT0S, ... */
const ZERO_DURATION = /^P(?:0+[YMWD])*(?:T(?:0+[HM])*(?:0+(?:\.0+)?S)?)?$/

function invalid(field: string, message: string): never {
  throw new DomainError('invalid_input', 'INVALID_AUTH_POLICY', `Invalid policy.${field}: ${message}`, `policy.${field}`)
}

/** Shape checks that are the caller's mistake (thrown as DomainError naming the field). */
function checkShape(input: AuthPolicyInput): void {
  if (input.roles.length === 0) invalid('roles', 'name at least one role.')
  if (input.roles.length > MAX_ROLES) invalid('roles', `at most ${MAX_ROLES} roles.`)
  for (const role of input.roles) if (!ROLE.test(role)) invalid('roles', `"${role}" is not a role name.`)
  for (const field of ['tokenExpiration', 'idleTimeout'] as const) {
    const value = input[field]
    if (value && ZERO_DURATION.test(value)) invalid(field, 'must be longer than zero.')
  }
}

/** Resolves the project part; business errors are the 2.2 codes. */
async function resolveDefinition(db: DbOrTx, input: AuthPolicyInput): Promise<Definition | Failure<AuthPolicyProjectErrorCode>> {
  checkShape(input)
  let projectId: string | null = null
  if (input.scope === 'project') {
    if (!input.project) return fail('PROJECT_REQUIRED', 'A project-scoped policy needs a project')
    const found = await projectBySlug(db, input.project)
    if (!found) return fail('PROJECT_NOT_FOUND', `Project ${input.project} was not found`)
    projectId = found.id
  } else if (input.project) {
    return fail('PROJECT_NOT_ALLOWED', 'A global policy cannot name a project')
  }
  return {
    scope: input.scope,
    project: input.scope === 'project' ? input.project! : null,
    projectId,
    roles: [...new Set(input.roles)],
    mfaRequired: input.mfaRequired ?? null,
    tokenExpiration: input.tokenExpiration ?? null,
    idleTimeout: input.idleTimeout ?? null,
    mfaGraceDuration: input.mfaGraceDuration ?? null,
    rememberMeAllowed: input.rememberMeAllowed ?? null,
  }
}

function toPolicy(id: string, definition: Record<string, unknown>): AuthPolicy {
  const { projectId: _projectId, ...rest } = definition as Definition
  return { id, ...rest }
}

/**
 * Runs a policy change with the enforcement cache forgotten before and after: a cached read made
 * while the transaction ran saw the old rows.
 */
async function changing<T>(work: () => Promise<T>): Promise<T> {
  invalidateAuthPolicyCache()
  try {
    return await work()
  } finally {
    invalidateAuthPolicyCache()
  }
}

export async function listAuthPolicies(db: DbOrTx): Promise<AuthPolicy[]> {
  const rows = await db.select().from(authPolicy).orderBy(asc(authPolicy.createdAt), asc(authPolicy.id))
  return rows.map((row) => toPolicy(row.id, row.definition))
}

export async function createAuthPolicy(
  ctx: DomainContext, actor: Actor, input: AuthPolicyInput,
): Promise<{ ok: true, id: string } | Failure<AuthPolicyProjectErrorCode>> {
  return changing(() => ctx.db.transaction(async (tx) => {
    const definition = await resolveDefinition(tx, input)
    if ('ok' in definition) return definition
    // `name` is unique and required by the table but absent from 2.2's API: the id serves.
    const id = randomUUID()
    const now = ctx.clock()
    await tx.insert(authPolicy).values({ id, name: id, definition, createdAt: now, updatedAt: now })
    await recordAudit(tx, actor, { type: 'auth_policy_change', projectId: definition.projectId, eventData: { action: 'create', id, after: toPolicy(id, definition) } })
    return { ok: true as const, id }
  }))
}

export async function updateAuthPolicy(
  ctx: DomainContext, actor: Actor, id: string, input: AuthPolicyInput,
): Promise<{ ok: true } | Failure<AuthPolicyProjectErrorCode | 'NOT_FOUND'>> {
  return changing(() => ctx.db.transaction(async (tx) => {
    const notFound = fail('NOT_FOUND', `Auth policy ${id} was not found`)
    if (!UUID.test(id)) return notFound
    const [row] = await tx.select().from(authPolicy).where(eq(authPolicy.id, id)).for('update')
    if (!row) return notFound
    const definition = await resolveDefinition(tx, input)
    if ('ok' in definition) return definition
    await tx.update(authPolicy).set({ definition, updatedAt: ctx.clock() }).where(eq(authPolicy.id, id))
    await recordAudit(tx, actor, {
      type: 'auth_policy_change', projectId: definition.projectId,
      eventData: { action: 'update', id, before: toPolicy(id, row.definition), after: toPolicy(id, definition) },
    })
    return { ok: true as const }
  }))
}

export async function deleteAuthPolicy(ctx: DomainContext, actor: Actor, id: string): Promise<{ ok: true } | Failure<'NOT_FOUND'>> {
  return changing(() => ctx.db.transaction(async (tx) => {
    const notFound = fail('NOT_FOUND', `Auth policy ${id} was not found`)
    if (!UUID.test(id)) return notFound
    const [row] = await tx.delete(authPolicy).where(eq(authPolicy.id, id)).returning()
    if (!row) return notFound
    const before = toPolicy(id, row.definition)
    await recordAudit(tx, actor, { type: 'auth_policy_change', eventData: { action: 'delete', id, before } })
    return { ok: true as const }
  }))
}
