/**
 * createGlobalApiKey (an identity with global roles and a permanent key) and disableApiKey
 * (any key by id, sessions of other people included, as Contember). The plain token is
 * returned once; with `tokenHash` the caller already holds it and none is returned.
 */
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { apiKey, identity, person, projectMembership } from '../../db/schema.js'
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

/**
 * The project of a project API key (createApiKey: a permanent key of an identity without a
 * person, with memberships in exactly one project), so its audit event is the project's as its
 * api_key_create is; null for any other key.
 */
async function projectOfKey(tx: DbOrTx, apiKeyId: string): Promise<string | null> {
  const rows = await tx.selectDistinct({ projectId: projectMembership.projectId }).from(apiKey)
    .innerJoin(projectMembership, eq(projectMembership.identityId, apiKey.identityId))
    .leftJoin(person, eq(person.identityId, apiKey.identityId))
    .where(and(eq(apiKey.id, apiKeyId), eq(apiKey.type, 'permanent'), isNull(person.id)))
  return rows.length === 1 ? rows[0].projectId : null
}

export async function disableApiKey(ctx: DomainContext, actor: Actor, apiKeyId: string): Promise<{ ok: true } | Failure<'KEY_NOT_FOUND'>> {
  const notFound = fail('KEY_NOT_FOUND', 'API key not found')
  if (!UUID.test(apiKeyId)) return notFound
  return ctx.db.transaction(async (tx) => {
    if (!(await disableKey(tx, apiKeyId, ctx.clock()))) return notFound
    await recordAudit(tx, actor, { type: 'api_key_disable', projectId: await projectOfKey(tx, apiKeyId), eventData: { apiKeyId } })
    return { ok: true as const }
  })
}
