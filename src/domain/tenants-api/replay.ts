/**
 * Replay rejection for strong-form signatures, stored in used_signature so that every node
 * behind a load balancer sees the same set. The primary key decides races: of two identical
 * requests arriving at once, exactly one insert succeeds. Expired rows are swept by a timer
 * (unref'd, stopped with the server), never inside a request; an expired row left a little
 * longer only takes space, since an expired signature is refused before it is claimed.
 */
import { lt, sql } from 'drizzle-orm'
import { usedSignature } from '../../db/schema.js'
import type { DomainContext } from '../context.js'

const SWEEP_INTERVAL_MS = 60_000

/**
 * Records a signature as used; false when it had been used already (a replay). The claim commits
 * with synchronous_commit off for this one statement: it is visible to every node the moment it
 * commits, as before, and only its durability waits for the WAL writer (≤ ~0.6 s). A PostgreSQL
 * crash in that instant could forget a claim, re-opening a signature until its t + tolerance;
 * in exchange a signed request does not wait for a disk flush (measured: the whole cost of the
 * strong form over the legacy one).
 */
export async function claimSignature(ctx: DomainContext, replayKey: string, expiresAtSeconds: number): Promise<boolean> {
  const expiresAt = new Date(expiresAtSeconds * 1000).toISOString()
  const inserted = await ctx.database.rows<{ mac_hash: string }>(sql`
    with async_commit as (select set_config('synchronous_commit', 'off', true))
    insert into used_signature (mac_hash, expires_at)
    select ${replayKey}, ${expiresAt}::timestamptz from async_commit
    on conflict do nothing
    returning mac_hash`)
  return inserted.length === 1
}

/** Deletes expired rows now and every minute after; returns the stop function (call it on close). */
export function startReplaySweeper(ctx: DomainContext, onError: (error: unknown) => void = () => {}): () => void {
  const sweep = () => { ctx.db.delete(usedSignature).where(lt(usedSignature.expiresAt, ctx.clock())).catch(onError) }
  sweep()
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
