/**
 * invite / unmanagedInvite: the person is found by normalized e-mail or created (identity roles
 * ["person"], the given name, else the e-mail's local part); memberships are appended; new
 * persons get a generated password (CREATE_PASSWORD), a password_reset token (RESET_PASSWORD,
 * valid config.settings.tenant.inviteExpirationMinutes, default 1440) or, unmanaged, the given
 * password / reset token hash. Managed invites send NEW_USER_INVITED or EXISTING_USER_INVITED to
 * the address as typed. One transaction, mail included (the outbox row commits with it).
 */
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { identity, person, personToken } from '../../db/schema.js'
import type { DbOrTx } from '../../db/client.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { generateToken, sha256Hex } from '../crypto/tokens.js'
import { fail, ok, type Result } from '../errors.js'
import { isValidEmail, normalizeEmail } from '../identity/email.js'
import { personsByIdentityIds, type PersonRow } from '../identity/queries.js'
import { sendTemplatedMail } from '../mail/index.js'
import { projectRoles } from '../projects/acl-schema.js'
import type { ProjectRow } from '../projects/queries.js'
import { isUniqueViolation } from '../projects/unique-violation.js'
import { LimitExceededError } from '../limits/membership-limits.js'
import { grantMemberships } from './grant.js'
import type { Membership } from './types.js'
import { validateMemberships } from './validation.js'

export type InviteMethod =
  | { kind: 'CREATE_PASSWORD', mailVariant: string }
  | { kind: 'RESET_PASSWORD', mailVariant: string }
  | { kind: 'UNMANAGED', password?: string, resetTokenHash?: string }

export interface InviteInput {
  email: string
  name?: string | null
  memberships: readonly Membership[]
  method: InviteMethod
}

export type InviteResult = Result<{ person: PersonRow, isNew: boolean }, 'INVALID_MEMBERSHIP' | 'INVALID_EMAIL_FORMAT' | 'LIMIT_EXCEEDED'>

const DEFAULT_INVITE_EXPIRATION_MINUTES = 1440

function inviteExpirationMinutes(config: Record<string, unknown>): number {
  const settings = config.settings as { tenant?: { inviteExpirationMinutes?: unknown } } | undefined
  const minutes = settings?.tenant?.inviteExpirationMinutes
  return typeof minutes === 'number' && Number.isFinite(minutes) && minutes > 0 ? minutes : DEFAULT_INVITE_EXPIRATION_MINUTES
}

export async function invitePerson(ctx: DomainContext, actor: Actor, project: ProjectRow, input: InviteInput): Promise<InviteResult> {
  const issues = validateMemberships(projectRoles(project.config), input.memberships)
  if (issues.length > 0) return fail('INVALID_MEMBERSHIP', 'Provided membership is invalid', { issues })
  const email = normalizeEmail(input.email)
  if (!isValidEmail(email)) return fail('INVALID_EMAIL_FORMAT', 'E-mail address is not in a valid format')

  const { method } = input
  const generatedPassword = method.kind === 'CREATE_PASSWORD' ? randomBytes(9).toString('base64') : undefined
  const plainPassword = generatedPassword ?? (method.kind === 'UNMANAGED' ? method.password : undefined)
  // Hash before the transaction: argon2 is slow and must not hold a connection.
  const passwordHash = plainPassword ? await ctx.passwords.hash(plainPassword) : null

  const attempt = () => ctx.db.transaction(async (tx: DbOrTx) => {
    const now = ctx.clock()
    const [existing] = await tx.select({ id: person.id, identityId: person.identityId }).from(person).where(eq(person.email, email)).limit(1)
    let identityId = existing?.identityId
    let personId = existing?.id
    const isNew = !existing
    if (isNew) {
      const [createdIdentity] = await tx.insert(identity).values({ roles: ['person'], createdAt: now }).returning({ id: identity.id })
      identityId = createdIdentity.id
      const [createdPerson] = await tx.insert(person).values({
        identityId, email, name: input.name || input.email.trim().split('@')[0], passwordHash, createdAt: now,
      }).returning({ id: person.id })
      personId = createdPerson.id
    }
    await grantMemberships(tx, project.id, identityId!, input.memberships, 'append', ctx.config.traefik.tenantEnforced)

    let resetToken: string | undefined
    const resetTokenHash = method.kind === 'UNMANAGED' ? method.resetTokenHash : undefined
    if (isNew && (method.kind === 'RESET_PASSWORD' || resetTokenHash)) {
      resetToken = resetTokenHash ? undefined : generateToken()
      await tx.insert(personToken).values({
        tokenHash: resetTokenHash ?? sha256Hex(resetToken!),
        personId: personId!,
        type: 'password_reset',
        expiresAt: new Date(now.getTime() + inviteExpirationMinutes(project.config) * 60_000),
        createdAt: now,
      })
    }
    if (method.kind !== 'UNMANAGED') {
      await sendTemplatedMail(ctx, tx, isNew
        ? {
          type: 'NEW_USER_INVITED', to: input.email, projectId: project.id, variant: method.mailVariant,
          variables: { email, password: generatedPassword ?? null, token: resetToken ?? null, project: project.name, projectSlug: project.slug },
        }
        : {
          type: 'EXISTING_USER_INVITED', to: input.email, projectId: project.id, variant: method.mailVariant,
          variables: { email, project: project.name, projectSlug: project.slug },
        })
    }
    await recordAudit(tx, actor, {
      type: 'person_invite',
      projectId: project.id,
      targetPersonId: personId,
      eventData: { projectSlug: project.slug, email, isNew, unmanaged: method.kind === 'UNMANAGED', memberships: input.memberships },
    })
    const persons = await personsByIdentityIds(tx, [identityId!])
    return ok({ person: persons.get(identityId!)!, isNew })
  })

  try {
    try {
      return await attempt()
    } catch (error) {
      // Two invites of one new address at once: the loser finds the winner's person on a retry.
      if (isUniqueViolation(error)) return await attempt()
      throw error
    }
  } catch (error) {
    if (error instanceof LimitExceededError) return fail('LIMIT_EXCEEDED', error.message)
    throw error
  }
}
