/**
 * addProjectMember, updateProjectMember and removeProjectMember on an existing project, each one
 * transaction with its audit event (project_membership_create / _update / _remove).
 */
import { and, eq } from 'drizzle-orm'
import { identity, projectMembership } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { UUID } from '../identity/queries.js'
import { projectRoles } from '../projects/acl-schema.js'
import type { ProjectRow } from '../projects/queries.js'
import { LimitExceededError } from '../limits/membership-limits.js'
import { grantMemberships } from './grant.js'
import { membershipsInProject, stripStorage } from './queries.js'
import type { Membership } from './types.js'
import { applyMembershipPlan, removeAllMemberships, type MembershipPlan } from './update.js'
import { validateMemberships, type MembershipValidationCode } from './validation.js'

const invalid = (issues: ReturnType<typeof validateMemberships>) => fail('INVALID_MEMBERSHIP' as const, 'Provided membership is invalid', { issues })

export async function addProjectMember(
  ctx: DomainContext, actor: Actor, project: ProjectRow, identityId: string, memberships: readonly Membership[],
): Promise<Result<null, 'INVALID_MEMBERSHIP' | 'IDENTITY_NOT_FOUND' | 'ALREADY_MEMBER' | 'LIMIT_EXCEEDED'>> {
  const issues = validateMemberships(projectRoles(project.config), memberships)
  if (issues.length > 0) return invalid(issues)
  const notFound = fail('IDENTITY_NOT_FOUND' as const, `Identity ${identityId} not found`)
  if (!UUID.test(identityId)) return notFound
  return limitAsResult(ctx.db.transaction(async (tx) => {
    const [target] = await tx.select({ id: identity.id }).from(identity).where(eq(identity.id, identityId)).for('update')
    if (!target) return notFound
    const [member] = await tx.select({ id: projectMembership.id }).from(projectMembership)
      .where(and(eq(projectMembership.projectId, project.id), eq(projectMembership.identityId, identityId))).limit(1)
    if (member) return fail('ALREADY_MEMBER', 'This identity is already a project member. Use updateProjectMember mutation to change memberships.')
    await grantMemberships(tx, project.id, identityId, memberships, 'set', ctx.config.traefik.tenantEnforced)
    await recordAudit(tx, actor, {
      type: 'project_membership_create', projectId: project.id,
      eventData: { projectId: project.id, identityId, before: [], after: memberships },
    })
    return ok(null)
  }))
}

/** A tenant limit that refused the transaction becomes Contember's business error. */
async function limitAsResult<T>(work: Promise<T>): Promise<T | ReturnType<typeof fail<'LIMIT_EXCEEDED'>>> {
  try {
    return await work
  } catch (error) {
    if (error instanceof LimitExceededError) return fail('LIMIT_EXCEEDED', error.message)
    throw error
  }
}

/** Validation for updateProjectMember, which ignores VARIABLE_EMPTY as Contember does. */
export function validateMembershipUpdate(project: ProjectRow, memberships: readonly Membership[]) {
  const ignored: MembershipValidationCode = 'VARIABLE_EMPTY'
  const issues = validateMemberships(projectRoles(project.config), memberships).filter((issue) => issue.code !== ignored)
  return issues.length > 0 ? invalid(issues) : undefined
}

export async function storedMembershipsOf(ctx: DomainContext, projectId: string, identityId: string): Promise<Membership[]> {
  if (!UUID.test(identityId)) return []
  return (await membershipsInProject(ctx.db, projectId, [identityId])).map(stripStorage)
}

export async function updateProjectMember(
  ctx: DomainContext, actor: Actor, project: ProjectRow, identityId: string, before: readonly Membership[], plan: MembershipPlan,
): Promise<Result<null, 'NOT_MEMBER' | 'LIMIT_EXCEEDED'>> {
  if (before.length === 0) return fail('NOT_MEMBER', 'Identity is not a member of this project')
  return limitAsResult(ctx.db.transaction(async (tx) => {
    await applyMembershipPlan(tx, project.id, identityId, plan, ctx.config.traefik.tenantEnforced)
    const after = (await membershipsInProject(tx, project.id, [identityId])).map(stripStorage)
    await recordAudit(tx, actor, {
      type: 'project_membership_update', projectId: project.id,
      eventData: { projectId: project.id, identityId, before, after },
    })
    return ok(null)
  }))
}

export async function removeProjectMember(
  ctx: DomainContext, actor: Actor, project: ProjectRow, identityId: string, before: readonly Membership[],
): Promise<Result<null, 'NOT_MEMBER'>> {
  const notMember = fail('NOT_MEMBER' as const, 'Identity is not a member of this project')
  if (!UUID.test(identityId)) return notMember
  return ctx.db.transaction(async (tx) => {
    if (!(await removeAllMemberships(tx, project.id, identityId))) return notMember
    await recordAudit(tx, actor, {
      type: 'project_membership_remove', projectId: project.id,
      eventData: { projectId: project.id, identityId, before, after: [] },
    })
    return ok(null)
  })
}
