/**
 * Replay rejection for strong-form signatures, stored in used_signature so that every node
 * behind a load balancer sees the same set. The primary key decides races: of two identical
 * requests arriving at once, exactly one insert succeeds.
 */
import { lt } from 'drizzle-orm'
import { usedSignature } from '../../db/schema.js'
import type { DomainContext } from '../context.js'

const SWEEP_INTERVAL_MS = 60_000
let lastSweep = 0

/** Records a signature as used; false when it had been used already (a replay). */
export async function claimSignature(ctx: DomainContext, replayKey: string, expiresAtSeconds: number): Promise<boolean> {
  const now = ctx.clock()
  if (now.getTime() - lastSweep > SWEEP_INTERVAL_MS) {
    lastSweep = now.getTime()
    await ctx.db.delete(usedSignature).where(lt(usedSignature.expiresAt, now))
  }
  const inserted = await ctx.db.insert(usedSignature)
    .values({ macHash: replayKey, expiresAt: new Date(expiresAtSeconds * 1000) })
    .onConflictDoNothing()
    .returning({ macHash: usedSignature.macHash })
  return inserted.length === 1
}

