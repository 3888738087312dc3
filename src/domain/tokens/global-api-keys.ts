/**
 * createGlobalApiKey (an identity with global roles and a permanent key) and disableApiKey
 * (any key by id, sessions of other people included, as Contember). The plain token is
 * returned once; with `tokenHash` the caller already holds it and none is returned.
 */
import { sql } from 'drizzle-orm'
import { identity } from '../../db/schema.js'
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { DomainError, fail } from '../errors.js'
import { isUniqueViolation, type Failure } from '../identity/persons.js'
import { UUID } from '../identity/queries.js'
import { createPermanentKey, disableKey } from '../sessions/api-keys.js'

export interface CreatedApiKey {
  id: string
  token: string | null
  identity: { id: string, roles: string[], description: string }
}

export async function createGlobalApiKey(
  ctx: DomainContext, actor: Actor, input: { description: string, roles: readonly string[], tokenHash?: string },
): Promise<CreatedApiKey> {
  const created = ctx.db.transaction(async (tx) => {
    const roles = [...new Set(input.roles)]
    const [created] = await tx.insert(identity)
      .values({ roles: sql`${JSON.stringify(roles)}::jsonb`, description: input.description, createdAt: ctx.clock() })
      .returning({ id: identity.id })
    const key = await createPermanentKey(ctx, tx, created.id, input.tokenHash)
    await recordAudit(tx, actor, {
      type: 'api_key_create',
      eventData: { apiKeyId: key.id, identityId: created.id, description: input.description, roles, tokenHashSupplied: Boolean(input.tokenHash) },
    })
    return { id: key.id, token: key.token, identity: { id: created.id, roles, description: input.description } }
  })
  // A supplied hash that is already in use is the caller's mistake, not a server error.
  return created.catch((error: unknown) => {
    if (isUniqueViolation(error)) throw new DomainError('conflict', 'TOKEN_HASH_IN_USE', 'An API key with this tokenHash already exists.', 'tokenHash')
    throw error
  })
}

export async function disableApiKey(ctx: DomainContext, actor: Actor, apiKeyId: string): Promise<{ ok: true } | Failure<'KEY_NOT_FOUND'>> {
  const notFound = fail('KEY_NOT_FOUND', 'API key not found')
  if (!UUID.test(apiKeyId)) return notFound
  return ctx.db.transaction(async (tx) => {
    if (!(await disableKey(tx, apiKeyId, ctx.clock()))) return notFound
    await recordAudit(tx, actor, { type: 'api_key_disable', eventData: { apiKeyId } })
    return { ok: true as const }
  })
}
