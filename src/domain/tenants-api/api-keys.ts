/**
 * Tenants API keys in Chevereto's format `chv_<id>_<64 hex>_<hmac>`: <id> is the row id, the
 * hex part 32 random bytes, <hmac> = hex HMAC-SHA256(`<id>_<random>`, TENANTS_API_KEY_SECRET).
 * Only the SHA-256 of the whole key is stored (it carries 256 random bits, so a slow hash adds
 * nothing). TENANTS_API_KEY from the environment is accepted too, under the name `env`.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { asc, eq, or, type SQL } from 'drizzle-orm'
import { tenantsApiKey } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { constantTimeEqual, sha256Hex } from '../crypto/tokens.js'
import { DomainError } from '../errors.js'
import { constraintViolation } from '../tenants/constraint.js'

const KEY_FORMAT = /^chv_([1-9]\d{0,9})_([a-f0-9]{64})_([a-f0-9]{64})$/
export const ENV_KEY_NAME = 'env'

export function keyHmac(secret: string, id: number | string, random: string): string {
  return createHmac('sha256', secret).update(`${id}_${random}`).digest('hex')
}

export function formatApiKey(secret: string, id: number, random: string): string {
  return `chv_${id}_${random}_${keyHmac(secret, id, random)}`
}

/** Pure check of the format and the embedded HMAC; returns the row id it claims. */
export function parseApiKey(secret: string | undefined, key: string): { id: number } | undefined {
  const match = KEY_FORMAT.exec(key)
  if (!match || !secret) return undefined
  return constantTimeEqual(keyHmac(secret, match[1], match[2]), match[3]) ? { id: Number(match[1]) } : undefined
}

export interface ApiKeyInfo { id: number, name: string | null, createdAt: Date, expiresAt: Date | null }

/** Hashes compare in constant time whatever the lengths; the configured key's is computed once. */
let envKey: { key: string, hash: string } | undefined
function envKeyHash(apiKey: string): string {
  if (envKey?.key !== apiKey) envKey = { key: apiKey, hash: sha256Hex(apiKey) }
  return envKey.hash
}

/** The caller's key name when the key is valid and unexpired; undefined otherwise. */
export async function authenticateApiKey(ctx: DomainContext, key: string | undefined): Promise<{ name: string } | undefined> {
  if (!key || key.length > 512) return undefined
  const { apiKey, apiKeySecret } = ctx.config.tenantsApi
  const keyHash = sha256Hex(key)
  if (apiKey && constantTimeEqual(envKeyHash(apiKey), keyHash)) return { name: ENV_KEY_NAME }
  const parsed = parseApiKey(apiKeySecret, key)
  if (!parsed) return undefined
  const [row] = await ctx.db.select().from(tenantsApiKey).where(eq(tenantsApiKey.id, parsed.id)).limit(1)
  if (!row || (row.expiresAt && row.expiresAt <= ctx.clock())) return undefined
  if (!constantTimeEqual(row.hash, keyHash)) return undefined
  return { name: row.name ?? `key-${row.id}` }
}

/** Creates a key and returns it once; the row holds only its hash. */
export async function createApiKey(ctx: DomainContext, input: { name?: string, expiresAt?: Date }, actor?: Actor): Promise<{ key: string, info: ApiKeyInfo }> {
  const secret = ctx.config.tenantsApi.apiKeySecret
  if (!secret) throw new DomainError('invalid_input', 'API_KEY_SECRET_MISSING', 'TENANTS_API_KEY_SECRET must be set to create API keys')
  if (input.name !== undefined && (input.name.length < 1 || input.name.length > 100)) {
    throw new DomainError('invalid_input', 'INVALID_NAME', 'name must be 1 to 100 characters', 'name')
  }
  if (input.expiresAt && input.expiresAt <= ctx.clock()) {
    throw new DomainError('invalid_input', 'INVALID_EXPIRES', 'expires must be in the future', 'expires')
  }
  try {
    return await ctx.db.transaction(async (tx) => {
      // The id is part of the key, so the row exists before its hash is known.
      const [row] = await tx.insert(tenantsApiKey).values({ name: input.name ?? null, hash: '', expiresAt: input.expiresAt ?? null }).returning()
      const key = formatApiKey(secret, row.id, randomBytes(32).toString('hex'))
      await tx.update(tenantsApiKey).set({ hash: sha256Hex(key) }).where(eq(tenantsApiKey.id, row.id))
      await recordAudit(tx, actor, { type: 'tenants_api_key_create', eventData: { id: row.id, name: row.name } })
      return { key, info: { id: row.id, name: row.name, createdAt: row.createdAt, expiresAt: row.expiresAt } }
    })
  } catch (error) {
    if (constraintViolation(error)?.kind === 'unique') throw new DomainError('conflict', 'API_KEY_NAME_EXISTS', `an API key named "${input.name}" already exists`, 'name')
    throw error
  }
}

export async function listApiKeys(ctx: DomainContext): Promise<ApiKeyInfo[]> {
  return ctx.db.select({ id: tenantsApiKey.id, name: tenantsApiKey.name, createdAt: tenantsApiKey.createdAt, expiresAt: tenantsApiKey.expiresAt })
    .from(tenantsApiKey).orderBy(asc(tenantsApiKey.id))
}

/** Deletes by id and/or name (at least one); returns how many keys were deleted. */
export async function deleteApiKey(ctx: DomainContext, by: { id?: number, name?: string }, actor?: Actor): Promise<number> {
  const conditions: SQL[] = []
  if (by.id !== undefined) conditions.push(eq(tenantsApiKey.id, by.id))
  if (by.name !== undefined) conditions.push(eq(tenantsApiKey.name, by.name))
  if (conditions.length === 0) throw new DomainError('invalid_input', 'ID_OR_NAME_REQUIRED', 'give --id or --name')
  return ctx.db.transaction(async (tx) => {
    const deleted = await tx.delete(tenantsApiKey).where(or(...conditions)).returning({ id: tenantsApiKey.id, name: tenantsApiKey.name })
    for (const key of deleted) await recordAudit(tx, actor, { type: 'tenants_api_key_delete', eventData: { id: key.id, name: key.name } })
    return deleted.length
  })
}
