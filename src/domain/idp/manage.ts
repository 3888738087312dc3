/**
 * Managing identity providers: addIDP, updateIDP, disableIDP, enableIDP and identityProviders.
 * Each change is one transaction with its audit event (never with the secret). Contember's
 * messages are kept; two of its internal errors become codes: an unknown type in updateIDP
 * (INVALID_CONFIGURATION) and a racing addIDP of the same slug (ALREADY_EXISTS, decided by the
 * unique index).
 */
import { eq } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { identityProvider } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { fullConfiguration, isIdpType, secretKeyOf, validateConfiguration, type IdpType } from './configuration.js'

export interface IdpOptionsInput {
  autoSignUp?: boolean | null
  exclusive?: boolean | null
  initReturnsConfig?: boolean | null
}

export interface IdentityProviderView {
  slug: string
  type: string
  /** The public configuration: the client secret / private key is never part of it. */
  configuration: Record<string, unknown>
  disabledAt: Date | null
  options: { autoSignUp: boolean, exclusive: boolean, initReturnsConfig: boolean }
}

type IdpRow = typeof identityProvider.$inferSelect

/** A provider with its secret decrypted, for the sign-in protocol only. */
export interface LoadedProvider {
  id: string
  slug: string
  type: IdpType
  configuration: Record<string, unknown>
  publicConfiguration: Record<string, unknown>
  disabledAt: Date | null
  autoSignUp: boolean
  exclusive: boolean
  initReturnsConfig: boolean
}

const toView = (row: IdpRow): IdentityProviderView => ({
  slug: row.slug,
  type: row.type,
  configuration: row.configuration,
  disabledAt: row.disabledAt,
  options: { autoSignUp: row.autoSignUp, exclusive: row.exclusive, initReturnsConfig: row.initReturnsConfig },
})

/** What the audit log keeps of a provider: names of configuration keys, never their values. */
function auditSnapshot(row: IdpRow) {
  const keys = Object.keys(row.configuration)
  if (row.secretEncrypted !== null && isIdpType(row.type)) keys.push(secretKeyOf(row.type))
  return {
    slug: row.slug,
    type: row.type,
    disabledAt: row.disabledAt ? row.disabledAt.toISOString() : null,
    autoSignUp: row.autoSignUp,
    exclusive: row.exclusive,
    initReturnsConfig: row.initReturnsConfig,
    configurationKeys: keys.sort(),
  }
}

function isUniqueViolation(error: unknown): boolean {
  const err = error as { code?: string, cause?: { code?: string } }
  return (err?.code ?? err?.cause?.code) === '23505'
}

async function findBySlug(db: DbOrTx, slug: string, forUpdate = false): Promise<IdpRow | undefined> {
  const query = db.select().from(identityProvider).where(eq(identityProvider.slug, slug)).limit(1)
  return (forUpdate ? await query.for('update') : await query)[0]
}

export interface AddIdpInput {
  slug: string
  type: string
  configuration: unknown
  options?: IdpOptionsInput | null
}

export async function addIdp(ctx: DomainContext, actor: Actor, input: AddIdpInput): Promise<Result<null, 'UNKNOWN_TYPE' | 'INVALID_CONFIGURATION' | 'ALREADY_EXISTS'>> {
  const validated = validateConfiguration(input.type, input.configuration)
  if (!validated.ok) return validated
  const alreadyExists = fail('ALREADY_EXISTS' as const, `IDP with slug ${input.slug} already exists`)
  const options = {
    autoSignUp: input.options?.autoSignUp ?? false,
    exclusive: input.options?.exclusive ?? false,
    initReturnsConfig: input.options?.initReturnsConfig ?? false,
  }
  try {
    return await ctx.db.transaction(async (tx) => {
      if (await findBySlug(tx, input.slug)) return alreadyExists
      const [row] = await tx.insert(identityProvider).values({
        slug: input.slug,
        type: input.type,
        configuration: validated.value.publicConfiguration,
        secretEncrypted: ctx.encryption.encrypt(validated.value.secret),
        ...options,
        createdAt: ctx.clock(),
      }).returning({ id: identityProvider.id })
      await recordAudit(tx, actor, {
        type: 'idp_create',
        identityProviderId: row.id,
        eventData: { identityProvider: input.slug, type: input.type, configurationKeys: Object.keys(input.configuration as object).sort(), options },
      })
      return ok(null)
    })
  } catch (error) {
    if (isUniqueViolation(error)) return alreadyExists
    throw error
  }
}

export interface UpdateIdpInput {
  slug: string
  type?: string | null
  configuration?: unknown
  options?: IdpOptionsInput | null
  mergeConfiguration?: boolean | null
}

/**
 * With mergeConfiguration the given keys are laid over the stored configuration (secret
 * included) and keys set to null are removed; without it the configuration is replaced.
 * The result is validated against the (possibly new) type before anything is written.
 */
export async function updateIdp(ctx: DomainContext, actor: Actor, input: UpdateIdpInput): Promise<Result<null, 'NOT_FOUND' | 'INVALID_CONFIGURATION'>> {
  return ctx.db.transaction(async (tx) => {
    const existing = await findBySlug(tx, input.slug, true)
    if (!existing) return fail('NOT_FOUND', `IDP ${input.slug} not found`)
    const type = input.type ?? existing.type
    if (!isIdpType(type)) return fail('INVALID_CONFIGURATION', `IDP type ${type} not found`)

    const changes: Partial<IdpRow> = {}
    const hasConfiguration = input.configuration !== undefined && input.configuration !== null
    if (hasConfiguration || type !== existing.type) {
      const stored = fullConfiguration(existing.type as IdpType, existing.configuration, decryptSecret(ctx, existing))
      let next: unknown = stored
      if (hasConfiguration && input.mergeConfiguration && typeof input.configuration === 'object' && !Array.isArray(input.configuration)) {
        const merged: Record<string, unknown> = { ...stored }
        for (const [key, value] of Object.entries(input.configuration as Record<string, unknown>)) {
          if (value === null) delete merged[key]
          else merged[key] = value
        }
        next = merged
      } else if (hasConfiguration) {
        next = input.configuration
      }
      const validated = validateConfiguration(type, next)
      if (!validated.ok) return fail('INVALID_CONFIGURATION', validated.message)
      changes.type = type
      changes.configuration = validated.value.publicConfiguration
      changes.secretEncrypted = ctx.encryption.encrypt(validated.value.secret)
    }
    for (const option of ['autoSignUp', 'exclusive', 'initReturnsConfig'] as const) {
      const value = input.options?.[option]
      if (value !== undefined && value !== null) changes[option] = value
    }
    const [updated] = Object.keys(changes).length
      ? await tx.update(identityProvider).set(changes).where(eq(identityProvider.id, existing.id)).returning()
      : [existing]
    await recordAudit(tx, actor, {
      type: 'idp_update',
      identityProviderId: existing.id,
      eventData: { before: auditSnapshot(existing), after: auditSnapshot(updated) },
    })
    return ok(null)
  })
}

/** disableIDP / enableIDP: idempotent; the first disable date is kept. */
export async function setIdpDisabled(ctx: DomainContext, actor: Actor, slug: string, disabled: boolean): Promise<Result<null, 'NOT_FOUND'>> {
  return ctx.db.transaction(async (tx) => {
    const existing = await findBySlug(tx, slug, true)
    if (!existing) return fail('NOT_FOUND', `IDP ${slug} not found`)
    if (disabled !== (existing.disabledAt !== null)) {
      await tx.update(identityProvider).set({ disabledAt: disabled ? ctx.clock() : null }).where(eq(identityProvider.id, existing.id))
    }
    await recordAudit(tx, actor, {
      type: disabled ? 'idp_disable' : 'idp_enable',
      identityProviderId: existing.id,
      eventData: { identityProvider: slug },
    })
    return ok(null)
  })
}

export async function listIdps(ctx: DomainContext): Promise<IdentityProviderView[]> {
  const rows = await ctx.db.select().from(identityProvider).orderBy(identityProvider.slug)
  return rows.map(toView)
}

function decryptSecret(ctx: DomainContext, row: IdpRow): string | null {
  return row.secretEncrypted === null ? null : ctx.encryption.decrypt(row.secretEncrypted)
}

/** The enabled provider with this slug, secret decrypted; undefined when missing or disabled. */
export async function loadEnabledProvider(ctx: DomainContext, slug: string): Promise<LoadedProvider | undefined> {
  const row = await findBySlug(ctx.db, slug)
  if (!row || row.disabledAt || !isIdpType(row.type)) return undefined
  return {
    id: row.id,
    slug: row.slug,
    type: row.type,
    configuration: fullConfiguration(row.type, row.configuration, decryptSecret(ctx, row)),
    publicConfiguration: row.configuration,
    disabledAt: row.disabledAt,
    autoSignUp: row.autoSignUp,
    exclusive: row.exclusive,
    initReturnsConfig: row.initReturnsConfig,
  }
}
