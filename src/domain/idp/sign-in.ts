/**
 * initSignInIDP and signInIDP. The protocol (network) part runs outside any transaction; the
 * person resolution, the session key and the audit event are one transaction afterwards.
 *
 * Person resolution (Contember §7.6): (1) the link (provider, sub); (2) unless the provider is
 * exclusive, the person with the claimed e-mail, then linked; (3) with autoSignUp a new person
 * (roles ["person"]; an exclusive provider stores no e-mail and marks it idp_only) plus the link;
 * (4) otherwise PERSON_NOT_FOUND. Fixes over Contember 2.0.8:
 * - a missing or disabled provider in signInIDP is IDP_VALIDATION_FAILED with a clear message
 *   (Contember throws; the 2.0.8 enum has no PROVIDER_NOT_FOUND for signInIDP);
 * - an e-mail the provider marks unverified (email_verified: false) is never used to link;
 * - two first sign-ins racing on the same account are decided by the unique indexes and the
 *   loser retries the resolution, instead of failing with an internal error.
 * Both outcomes are audited as `idp_login`. The person's auth policy shapes the session; the ID
 * token is kept (encrypted) when the provider offers RP-initiated logout, for signOut.
 */
import { and, eq, inArray } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { identity, person, personIdentityProvider, personMfa } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { isValidEmail, normalizeEmail } from '../identity/email.js'
import type { PersonRow } from '../identity/queries.js'
import { cachedPolicyRules, effectivePolicy } from '../auth-policies/effective.js'
import { createPolicySession } from '../auth-policies/session-terms.js'
import { sessionTerms } from '../config/session-lifetime.js'
import { cachedTenantConfig } from '../config/tenant-config.js'
import { initAuth, processResponse } from './handlers.js'
import { rememberIdpSession } from './logout.js'
import { loadEnabledProvider, type LoadedProvider } from './manage.js'
import { IdpResponseError, IdpValidationError, type IdpClaims, type IdpSignIn } from './oidc.js'

export interface InitSignInResult {
  authUrl: string
  sessionData: Record<string, unknown>
  idpConfiguration: Record<string, unknown> | null
}

export async function initSignInIdp(ctx: DomainContext, slug: string, data: unknown): Promise<Result<InitSignInResult, 'PROVIDER_NOT_FOUND' | 'IDP_VALIDATION_FAILED'>> {
  const provider = await loadEnabledProvider(ctx, slug)
  if (!provider) return fail('PROVIDER_NOT_FOUND', `Identity provider ${slug} not found`)
  try {
    const init = await initAuth(provider, data, ctx.config.idp)
    return ok({ ...init, idpConfiguration: provider.initReturnsConfig ? provider.publicConfiguration : null })
  } catch (error) {
    // Both kinds (bad input, provider unreachable) are IDP_VALIDATION_FAILED: the 2.0.8 enum has no other code.
    if (error instanceof IdpValidationError || error instanceof IdpResponseError) return fail('IDP_VALIDATION_FAILED', error.message)
    throw error
  }
}

export type SignInIdpErrorCode = 'INVALID_IDP_RESPONSE' | 'IDP_VALIDATION_FAILED' | 'PERSON_NOT_FOUND' | 'PERSON_DISABLED'

export interface SignInIdpResult {
  token: string
  person: PersonRow
  idpResponse: IdpClaims
}

interface ResolvedPerson extends PersonRow {
  created: boolean
  linked: boolean
}

export async function signInIdp(
  ctx: DomainContext, actor: Actor, slug: string, data: unknown, expiration: number | null | undefined,
): Promise<Result<SignInIdpResult, SignInIdpErrorCode>> {
  const provider = await loadEnabledProvider(ctx, slug)
  // Failures inside the transaction are audited through it (PGlite has one connection).
  const failed = async (code: SignInIdpErrorCode, message: string, extra: { db?: DbOrTx, personId?: string, input?: string } = {}) => {
    await recordAudit(extra.db ?? ctx.db, actor, {
      type: 'idp_login', success: false, errorCode: code, errorMessage: message,
      personId: extra.personId ?? null, identityProviderId: provider?.id ?? null,
      personInputIdentifier: extra.input ?? null, eventData: { identityProvider: slug },
    })
    return fail(code, message)
  }
  if (!provider) return failed('IDP_VALIDATION_FAILED', `Identity provider ${slug} not found or disabled`)

  let response: IdpSignIn
  try {
    response = await processResponse(provider, data, ctx.config.idp)
  } catch (error) {
    if (error instanceof IdpResponseError) return failed('INVALID_IDP_RESPONSE', error.message)
    if (error instanceof IdpValidationError) return failed('IDP_VALIDATION_FAILED', error.message)
    throw error
  }
  const { claims } = response
  const input = typeof claims.email === 'string' ? claims.email : claims.externalIdentifier
  const [tenant, rules] = await Promise.all([cachedTenantConfig(ctx.db), cachedPolicyRules(ctx.db)])
  const terms = sessionTerms(tenant.login, expiration, ctx.config.sessions.defaultExpirationMinutes)

  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.transaction(async (tx) => {
        const found = await resolvePerson(ctx, tx, provider, claims)
        if (!found) return failed('PERSON_NOT_FOUND', `Person ${input} not found`, { db: tx, input })
        const { created, linked, ...row } = found
        if (row.disabledAt) return failed('PERSON_DISABLED', 'Person is disabled', { db: tx, personId: row.id, input })
        // MFA is the provider's business (the 2.2 schema has no MFA error here); the session policy applies.
        const policy = await effectivePolicy(tx, rules, row.id)
        const owner = { personId: row.id, identityId: row.identityId }
        const session = await createPolicySession(ctx, tx, owner, terms.expiration, terms.defaultMinutes, policy, actor)
        if (response.logoutIdToken) await rememberIdpSession(ctx, tx, session.id, provider.id, response.logoutIdToken)
        await recordAudit(tx, actor, {
          type: 'idp_login', personId: row.id, identityProviderId: provider.id, personInputIdentifier: input,
          eventData: { identityProvider: slug, apiKeyId: session.id, expiresAt: session.expiresAt.toISOString(), personCreated: created, linked },
        })
        return ok({ token: session.token, person: row, idpResponse: claims })
      })
    } catch (error) {
      // A concurrent first sign-in created the same link or person: resolve again, once.
      if (attempt < 2 && isUniqueViolation(error)) continue
      throw error
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  const err = error as { code?: string, cause?: { code?: string } }
  return (err?.code ?? err?.cause?.code) === '23505'
}

const personColumns = {
  id: person.id, identityId: person.identityId, email: person.email, name: person.name,
  passwordlessEnabled: person.passwordlessEnabled, disabledAt: person.disabledAt, otpActivatedAt: personMfa.otpActivatedAt,
}

async function selectPerson(tx: DbOrTx, where: ReturnType<typeof eq>): Promise<PersonRow | undefined> {
  const [row] = await tx.select(personColumns).from(person).leftJoin(personMfa, eq(personMfa.personId, person.id)).where(where).limit(1)
  if (!row) return undefined
  const { otpActivatedAt, ...rest } = row
  return { ...rest, otpEnabled: otpActivatedAt !== null }
}

async function personByEmail(tx: DbOrTx, email: string): Promise<PersonRow | undefined> {
  // Contember's lookup: the exact stored string first, then the normalized one.
  const candidates = [...new Set([email, normalizeEmail(email)])]
  const ids = await tx.select({ id: person.id, email: person.email }).from(person).where(inArray(person.email, candidates))
  const match = ids.find((row) => row.email === email) ?? ids[0]
  return match && selectPerson(tx, eq(person.id, match.id))
}

async function resolvePerson(ctx: DomainContext, tx: DbOrTx, provider: LoadedProvider, claims: IdpClaims): Promise<ResolvedPerson | undefined> {
  const sub = claims.externalIdentifier
  const [link] = await tx.select({ personId: personIdentityProvider.personId }).from(personIdentityProvider)
    .where(and(eq(personIdentityProvider.identityProviderId, provider.id), eq(personIdentityProvider.externalIdentifier, sub))).limit(1)
  if (link) {
    const linkedPerson = await selectPerson(tx, eq(person.id, link.personId))
    if (linkedPerson) return { ...linkedPerson, created: false, linked: false }
  }
  const saveLink = (personId: string) => tx.insert(personIdentityProvider)
    .values({ personId, identityProviderId: provider.id, externalIdentifier: sub, createdAt: ctx.clock() })

  const email = typeof claims.email === 'string' && isValidEmail(claims.email) ? claims.email : undefined
  const emailUsable = email !== undefined && claims.email_verified !== false
  if (!provider.exclusive && emailUsable) {
    const byEmail = await personByEmail(tx, email)
    if (byEmail) {
      await saveLink(byEmail.id)
      return { ...byEmail, created: false, linked: true }
    }
  }
  if (!provider.autoSignUp) return undefined

  const storedEmail = provider.exclusive || !emailUsable ? null : normalizeEmail(email)
  const name = typeof claims.name === 'string' && claims.name.trim() !== '' ? claims.name.trim() : (email ? email.split('@')[0] : sub)
  const now = ctx.clock()
  const [newIdentity] = await tx.insert(identity).values({ roles: ['person'], createdAt: now }).returning({ id: identity.id })
  const [created] = await tx.insert(person).values({
    identityId: newIdentity.id, email: storedEmail, name, idpOnly: provider.exclusive, createdAt: now,
  }).returning({ id: person.id })
  await saveLink(created.id)
  const row = await selectPerson(tx, eq(person.id, created.id))
  return { ...row!, created: true, linked: true }
}
