/**
 * A tenant's people as Chevereto's API sees them: install creates (or links) the tenant's
 * administrator, a person with an admin membership of the tenant's project and a username in
 * it; password reset finds a member by that username, sets a new password and ends that
 * person's sessions.
 */
import { randomBytes } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import { apiKey, identity, person, projectMembership, projectUsername } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { DomainError } from '../errors.js'
import { isValidEmail, normalizeEmail } from '../identity/email.js'
import { grantMemberships } from '../memberships/grant.js'
import { constraintViolation } from './constraint.js'
import { lockLiveTenant } from './tenants.js'

const USERNAME = /^[A-Za-z0-9_]{3,16}$/
export const ADMIN_ROLE = 'admin'

export function checkUsername(value: unknown): string {
  if (typeof value !== 'string' || !USERNAME.test(value)) {
    throw new DomainError('invalid_input', 'INVALID_USERNAME', 'username must be 3-16 letters, digits or "_"', 'username')
  }
  return value
}

function checkPassword(ctx: DomainContext, value: unknown): string {
  const { minLength, maxBytes } = ctx.config.passwords
  if (typeof value !== 'string' || value.length < minLength || Buffer.byteLength(value) > Math.min(maxBytes, 512) || value.length > 128) {
    throw new DomainError('invalid_input', 'INVALID_PASSWORD', `password must be ${minLength} to 128 characters`, 'password')
  }
  return value
}

/** 18 random bytes as base64url: 24 characters, 144 bits. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url')
}

export interface InstallInput { username: unknown, email: unknown, password: unknown }
export interface InstallResult { tenant_id: string, username: string, email: string }

export async function installTenantAdmin(ctx: DomainContext, tenantId: string, input: InstallInput, actor?: Actor): Promise<InstallResult> {
  const username = checkUsername(input.username)
  const email = typeof input.email === 'string' ? normalizeEmail(input.email) : ''
  if (!isValidEmail(email)) throw new DomainError('invalid_input', 'INVALID_EMAIL', 'email must be an e-mail address', 'email')
  const password = checkPassword(ctx, input.password)
  const passwordHash = await ctx.passwords.hash(password)
  try {
    return await ctx.db.transaction(async (tx) => {
      // The row lock serialises installs of one tenant, so only one administrator is created.
      const row = await lockLiveTenant(tx, tenantId)
      const [admin] = await tx.select({ id: projectMembership.id }).from(projectMembership)
        .where(and(eq(projectMembership.projectId, row.projectId), eq(projectMembership.role, ADMIN_ROLE))).limit(1)
      if (admin) throw new DomainError('conflict', 'ALREADY_INSTALLED', `Tenant "${tenantId}" is already installed`, 'id')
      // An existing person is linked, never duplicated, and keeps their own password.
      let [existing] = await tx.select({ id: person.id, identityId: person.identityId }).from(person).where(eq(person.email, email)).limit(1)
      const linked = Boolean(existing)
      if (!existing) {
        const [created] = await tx.insert(identity).values({ roles: ['person'] }).returning({ id: identity.id })
        ;[existing] = await tx.insert(person).values({ identityId: created.id, email, passwordHash })
          .returning({ id: person.id, identityId: person.identityId })
      }
      // Through the one place memberships grow, so the plan's user and admin limits apply (409).
      await grantMemberships(tx, row.projectId, existing.identityId, [{ role: ADMIN_ROLE, variables: [] }], 'set', ctx.config.traefik.tenantEnforced)
      const [named] = await tx.select({ username: projectUsername.username }).from(projectUsername)
        .where(and(eq(projectUsername.projectId, row.projectId), eq(projectUsername.personId, existing.id))).limit(1)
      if (named && named.username !== username) {
        throw new DomainError('conflict', 'USERNAME_CONFLICT', `username: this person is already "${named.username}" in tenant "${tenantId}"`, 'username')
      }
      if (!named) await tx.insert(projectUsername).values({ projectId: row.projectId, personId: existing.id, username })
      await recordAudit(tx, actor, {
        type: 'tenant_install', tenantId, projectId: row.projectId, targetPersonId: existing.id,
        eventData: { username, linked_existing_person: linked },
      })
      return { tenant_id: tenantId, username, email }
    })
  } catch (error) {
    const violation = constraintViolation(error)
    if (violation?.kind === 'unique' && violation.constraint.includes('username')) {
      throw new DomainError('conflict', 'USERNAME_TAKEN', `username: "${username}" is already taken in tenant "${tenantId}"`, 'username')
    }
    if (violation?.kind === 'unique') throw new DomainError('conflict', 'INSTALL_CONFLICT', 'a concurrent change conflicted with this install; retry', 'email')
    throw error
  }
}

export interface PasswordResetResult { username: string, password: string }

export async function resetTenantUserPassword(ctx: DomainContext, tenantId: string, input: { username: unknown, password?: unknown }, actor?: Actor): Promise<PasswordResetResult> {
  if (typeof input.username !== 'string' || input.username.length === 0 || input.username.length > 64) {
    throw new DomainError('invalid_input', 'INVALID_USERNAME', 'username must be a non-empty string', 'username')
  }
  const username = input.username
  const password = input.password === undefined || input.password === null ? generatePassword() : checkPassword(ctx, input.password)
  const passwordHash = await ctx.passwords.hash(password)
  await ctx.db.transaction(async (tx) => {
    const row = await lockLiveTenant(tx, tenantId)
    const [member] = await tx.select({ personId: person.id, identityId: person.identityId }).from(projectUsername)
      .innerJoin(person, eq(person.id, projectUsername.personId))
      .where(and(eq(projectUsername.projectId, row.projectId), eq(projectUsername.username, username))).limit(1)
    if (!member) throw new DomainError('not_found', 'USER_NOT_FOUND', `User "${username}" not found in tenant "${tenantId}"`, 'username')
    const now = ctx.clock()
    await tx.update(person).set({ passwordHash, failedSignIns: 0 }).where(eq(person.id, member.personId))
    const ended = await tx.update(apiKey).set({ disabledAt: now })
      .where(and(eq(apiKey.identityId, member.identityId), eq(apiKey.type, 'session'), isNull(apiKey.disabledAt)))
      .returning({ id: apiKey.id })
    await recordAudit(tx, actor, {
      type: 'tenant_user_password_reset', tenantId, projectId: row.projectId, targetPersonId: member.personId,
      eventData: { username, generated: input.password === undefined || input.password === null, ended_sessions: ended.length },
    })
  })
  return { username, password }
}
