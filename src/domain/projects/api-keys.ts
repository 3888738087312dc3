/**
 * Project API keys: an identity without a person (roles [], a description), a permanent key and
 * memberships in one project. createApiKey and createProject's deploy key both go through here.
 */
import type { DbOrTx } from '../../db/client.js'
import { apiKey, identity } from '../../db/schema.js'
import { generateToken, sha256Hex } from '../crypto/tokens.js'
import { grantMemberships } from '../memberships/grant.js'
import type { Membership } from '../memberships/types.js'

export interface CreatedApiKey {
  apiKeyId: string
  /** The plain token, or null when the caller supplied the hash. */
  token: string | null
  identityId: string
  description: string
}

export async function createProjectApiKey(
  tx: DbOrTx,
  input: { projectId: string, description: string, memberships: readonly Membership[], tokenHash?: string, now: Date },
): Promise<CreatedApiKey> {
  const token = input.tokenHash ? null : generateToken()
  const [created] = await tx.insert(identity).values({ roles: [], description: input.description, createdAt: input.now }).returning({ id: identity.id })
  const [key] = await tx.insert(apiKey).values({
    tokenHash: input.tokenHash ?? sha256Hex(token!),
    type: 'permanent',
    identityId: created.id,
    createdAt: input.now,
  }).returning({ id: apiKey.id })
  // A key's identity has no person: it never takes a seat, so TENANT_ENFORCED is not needed.
  await grantMemberships(tx, input.projectId, created.id, input.memberships, 'set', {})
  return { apiKeyId: key.id, token, identityId: created.id, description: input.description }
}
