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
import { Coalesced } from '../../db/coalesced.js'

const SWEEP_INTERVAL_MS = 60_000

/**
 * Records a signature as used; false when it had been used already (a replay). The claim commits
 * with synchronous_commit off for this one statement: it is visible to every node the moment it
 * commits, as before, and only its durability waits for the WAL writer (≤ ~0.6 s). A PostgreSQL
 * crash in that instant could forget a claim, re-opening a signature until its t + tolerance;
 * in exchange a signed request does not wait for a disk flush (measured: the whole cost of the
 * strong form over the legacy one). Concurrent claims beyond a few in flight go in one insert.
 */
export function claimSignature(ctx: DomainContext, replayKey: string, expiresAtSeconds: number): Promise<boolean> {
  let claims = claimers.get(ctx)
  if (!claims) claimers.set(ctx, claims = new Coalesced({ run: (batch) => insertClaims(ctx, batch), maxInFlight: 4, maxBatch: 64 }))
  return claims.call({ replayKey, expiresAt: new Date(expiresAtSeconds * 1000).toISOString() })
}

interface Claim { replayKey: string, expiresAt: string }

const claimers = new WeakMap<DomainContext, Coalesced<Claim, boolean>>()

/** One insert for the batch; of two equal keys in it (a replay racing its original) only the first is granted. */
async function insertClaims(ctx: DomainContext, batch: Claim[]): Promise<boolean[]> {
  const first = new Map<string, Claim>()
  for (const claim of batch) if (!first.has(claim.replayKey)) first.set(claim.replayKey, claim)
  const unique = [...first.values()]
  const inserted = await ctx.database.rows<{ mac_hash: string }>(sql`
    with async_commit as (select set_config('synchronous_commit', 'off', true))
    insert into used_signature (mac_hash, expires_at)
    select claim.mac_hash, claim.expires_at
    from unnest(${sql.param(unique.map((c) => c.replayKey))}::text[], ${sql.param(unique.map((c) => c.expiresAt))}::timestamptz[]) as claim(mac_hash, expires_at), async_commit
    on conflict do nothing
    returning mac_hash`)
  const granted = new Set(inserted.map((row) => row.mac_hash))
  return batch.map((claim) => first.get(claim.replayKey) === claim && granted.has(claim.replayKey))
}

/** Deletes expired rows now and every minute after; returns the stop function (call it on close). */
export function startReplaySweeper(ctx: DomainContext, onError: (error: unknown) => void = () => {}): () => void {
  const sweep = () => { ctx.db.delete(usedSignature).where(lt(usedSignature.expiresAt, ctx.clock())).catch(onError) }
  sweep()
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
