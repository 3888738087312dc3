/**
 * Last-use tracking of API keys (2.2's api_key.last_used_at / last_ip / last_user_agent, shown by
 * Identity.sessions and ApiKey.lastUsedAt). Called after every successful authentication, so it
 * never waits for the database: the write is scheduled off the request path and its failure is
 * ignored. A key is written at once when its client IP or user agent changes, otherwise at most
 * once per minute per process (a remembered map, bounded in size; forgetting an entry only costs
 * one early write).
 */
import { eq } from 'drizzle-orm'
import { apiKey } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { clipUserAgent, type ClientInfo } from './api-keys.js'

/** Unchanged client info is written at most this often per key (Contember 2.2: 60 s). */
export const TRACKING_INTERVAL_MS = 60_000
const MAX_ENTRIES = 10_000

interface LastWrite { at: number, ip: string | null, userAgent: string | null }

const lastWrites = new Map<string, LastWrite>()

function claimWrite(apiKeyId: string, next: LastWrite): boolean {
  const last = lastWrites.get(apiKeyId)
  if (last && last.ip === next.ip && last.userAgent === next.userAgent && next.at - last.at < TRACKING_INTERVAL_MS) return false
  if (!last && lastWrites.size >= MAX_ENTRIES) {
    for (const [id, entry] of lastWrites) if (next.at - entry.at >= TRACKING_INTERVAL_MS) lastWrites.delete(id)
    // Still full of fresh entries: start over rather than grow (a few extra writes at worst).
    if (lastWrites.size >= MAX_ENTRIES) lastWrites.clear()
  }
  // Re-inserting keeps the map in write order, so the sweep above meets the oldest entries first.
  lastWrites.delete(apiKeyId)
  lastWrites.set(apiKeyId, next)
  return true
}

/** Records that the key was just used by this client; returns whether a write was scheduled. */
export function trackApiKeyUse(ctx: DomainContext, apiKeyId: string, client: ClientInfo): boolean {
  const now = ctx.clock()
  const next = { at: now.getTime(), ip: client.ip ?? null, userAgent: clipUserAgent(client.userAgent) }
  if (!claimWrite(apiKeyId, next)) return false
  setImmediate(() => {
    ctx.db.update(apiKey).set({ lastUsedAt: now, lastIp: next.ip, lastUserAgent: next.userAgent })
      .where(eq(apiKey.id, apiKeyId))
      .catch(() => {})
  })
  return true
}
