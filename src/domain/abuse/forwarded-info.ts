/** Whether an API key was created with `trustForwardedClientInfo` (2.2): its caller may name the end client. */
import { eq } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { apiKey } from '../../db/schema.js'

export async function apiKeyTrustsForwardedInfo(db: DbOrTx, apiKeyId: string): Promise<boolean> {
  const [row] = await db.select({ trust: apiKey.trustForwardedInfo }).from(apiKey).where(eq(apiKey.id, apiKeyId)).limit(1)
  return row?.trust === true
}
