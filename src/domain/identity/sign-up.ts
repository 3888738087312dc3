/**
 * signUp: a new identity (`[...roles, "person"]`) with its person. Fixes Contember's bug of
 * ignoring `name` (the e-mail's local part is only the fallback). Errors in Contember's order:
 * INVALID_EMAIL_FORMAT, EMAIL_ALREADY_EXISTS, TOO_WEAK; a concurrent sign-up with the same e-mail
 * is decided by the unique index and reported as EMAIL_ALREADY_EXISTS, never as a 500.
 */
import { and, eq } from 'drizzle-orm'
import { apiKey, identity, person } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import { isValidEmail, normalizeEmail } from './email.js'
import { publicFlowFailure } from '../abuse/guard.js'
import { readTenantConfig } from '../config/tenant-config.js'
import { checkPassword, weaknessDetails } from './password-policy.js'
import { emailInUse, findPersonById, isUniqueViolation, toPersonRow, type Failure } from './persons.js'
import type { PersonRow } from './queries.js'

export type SignUpErrorCode = 'EMAIL_ALREADY_EXISTS' | 'INVALID_EMAIL_FORMAT' | 'TOO_WEAK' | 'INVALID_CAPTCHA' | 'RATE_LIMIT_EXCEEDED'

export type SignUpPassword =
  | { kind: 'plain', password: string }
  /** A bcrypt hash imported as is ($2a$, $2b$ or $2y$; the surface validates the format). */
  | { kind: 'hash', hash: string }
  | { kind: 'none' }

export interface SignUpInput {
  email: string
  password: SignUpPassword
  roles: readonly string[]
  name?: string | null
  /** The caller's key: a one_off key is used up by the sign-up (Contember). */
  callerApiKeyId: string
  /**
   * Set for a public sign-up (PUBLIC_SIGN_UP, the login token): the per-IP sign-up limit and the
   * captcha apply. Administrators creating accounts are not asked for a captcha.
   */
  publicRequest?: { captchaToken?: string | null }
}

class EmailTaken extends Error {}

export async function signUp(ctx: DomainContext, actor: Actor, input: SignUpInput): Promise<{ ok: true, person: PersonRow } | Failure<SignUpErrorCode>> {
  if (input.publicRequest) {
    const refused = await publicFlowFailure(ctx, actor, await readTenantConfig(ctx.db), 'signUpPerIp', 'signUp', input.publicRequest.captchaToken)
    if (refused) return refused
  }
  if (!isValidEmail(input.email.trim())) return fail('INVALID_EMAIL_FORMAT', 'E-mail address is not in a valid format')
  const duplicate = () => fail('EMAIL_ALREADY_EXISTS', `User with email ${input.email} already exists`)
  if (await emailInUse(ctx.db, input.email)) return duplicate()
  if (input.password.kind === 'plain') {
    const weakness = await checkPassword(ctx, ctx.db, input.password.password)
    if (weakness) return fail('TOO_WEAK', weakness.message, weaknessDetails(weakness))
  }
  const passwordHash = input.password.kind === 'plain' ? await ctx.passwords.hash(input.password.password)
    : input.password.kind === 'hash' ? input.password.hash : null
  const roles = [...new Set([...input.roles, 'person'])]
  const name = input.name || input.email.trim().split('@')[0]

  try {
    return await ctx.db.transaction(async (tx) => {
      const now = ctx.clock()
      const [created] = await tx.insert(identity).values({ roles, createdAt: now }).returning({ id: identity.id })
      const inserted = await tx.insert(person)
        .values({ identityId: created.id, email: normalizeEmail(input.email), name, passwordHash, createdAt: now })
        .onConflictDoNothing({ target: person.email })
        .returning({ id: person.id })
      if (inserted.length === 0) throw new EmailTaken()
      await tx.update(apiKey).set({ disabledAt: now }).where(and(eq(apiKey.id, input.callerApiKeyId), eq(apiKey.type, 'one_off')))
      await recordAudit(tx, actor, {
        type: 'sign_up', targetPersonId: inserted[0].id, personInputIdentifier: input.email,
        eventData: { identityId: created.id, roles, password: input.password.kind },
      })
      return { ok: true as const, person: toPersonRow((await findPersonById(tx, inserted[0].id))!) }
    })
  } catch (error) {
    if (error instanceof EmailTaken || isUniqueViolation(error)) return duplicate()
    throw error
  }
}
