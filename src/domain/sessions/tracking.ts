/**
 * Last-use tracking of API keys (2.2's api_key.last_used_at / last_ip / last_user_agent, shown by
 * Identity.sessions and ApiKey.lastUsedAt). Called after every successful authentication, so it
 * never waits for the database: the write is scheduled off the request path and its failure is
 * ignored. A key is written at once when its client IP or user agent changes, otherwise at most
 * once per minute per process, or a quarter of its idle timeout when that is shorter (a
 * remembered map, bounded in size; forgetting an entry only costs one early write). The same UPDATE slides a session's expiry when authentication found it due
 * (one write per session per minute, not two); its condition keeps other nodes from repeating
 * the prolongation and never revives a session ended (disabled or expired) since it was read.
 */
import { eq, sql } from 'drizzle-orm'
import { apiKey } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { lastUseGranularityMs, PROLONG_THRESHOLD_MS, TRACKING_INTERVAL_MS } from '../tokens/authenticate.js'
import { clipUserAgent, type ClientInfo } from './api-keys.js'

const MAX_ENTRIES = 10_000

interface LastWrite { at: number, ip: string | null, userAgent: string | null }

const lastWrites = new Map<string, LastWrite>()

function claimWrite(apiKeyId: string, next: LastWrite, intervalMs: number): boolean {
  const last = lastWrites.get(apiKeyId)
  if (last && last.ip === next.ip && last.userAgent === next.userAgent && next.at - last.at < intervalMs) return false
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

/**
 * Records that the key was just used by this client (and, with `prolongTo`, that its session
 * should slide to then); returns whether a write was scheduled.
 */
export function trackApiKeyUse(ctx: DomainContext, key: { apiKeyId: string, prolongTo?: Date, idleTimeoutMs?: number }, client: ClientInfo): boolean {
  const now = ctx.clock()
  const next = { at: now.getTime(), ip: client.ip ?? null, userAgent: clipUserAgent(client.userAgent) }
  // A session with an idle timeout is written often enough for authenticate's idle check (a quarter of the timeout).
  if (!claimWrite(key.apiKeyId, next, lastUseGranularityMs(key.idleTimeoutMs))) return false
  const { prolongTo } = key
  setImmediate(() => {
    const expiresAt = prolongTo && sql`case when ${apiKey.disabledAt} is null and ${apiKey.expiresAt} > ${now.toISOString()}::timestamptz
      and ${apiKey.expiresAt} < ${new Date(prolongTo.getTime() - PROLONG_THRESHOLD_MS).toISOString()}::timestamptz
      then ${prolongTo.toISOString()}::timestamptz else ${apiKey.expiresAt} end`
    ctx.db.update(apiKey).set({ lastUsedAt: now, lastIp: next.ip, lastUserAgent: next.userAgent, ...(expiresAt ? { expiresAt } : {}) })
      .where(eq(apiKey.id, key.apiKeyId))
      .catch(() => {})
  })
  return true
}
