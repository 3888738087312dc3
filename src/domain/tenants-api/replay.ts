/**
 * Replay rejection for strong-form signatures, stored in used_signature so that every node
 * behind a load balancer sees the same set. The primary key decides races: of two identical
 * requests arriving at once, exactly one insert succeeds. Expired rows are swept by a timer
 * (unref'd, stopped with the server), never inside a request; an expired row left a little
 * longer only takes space, since an expired signature is refused before it is claimed.
 */
import { lt, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { usedSignature } from '../../db/schema.js'
import type { DomainContext } from '../context.js'

const SWEEP_INTERVAL_MS = 60_000

function buildClaim(db: Db) {
  return db.insert(usedSignature)
    .values({ macHash: sql.placeholder('macHash'), expiresAt: sql.placeholder('expiresAt') })
    .onConflictDoNothing()
    .returning({ macHash: usedSignature.macHash })
    .prepare('tenant_gateway_claim_signature')
}

/** Built once per database: building the insert costs more CPU than its round trip. */
const claims = new WeakMap<Db, ReturnType<typeof buildClaim>>()

/** Records a signature as used; false when it had been used already (a replay). */
export async function claimSignature(ctx: DomainContext, replayKey: string, expiresAtSeconds: number): Promise<boolean> {
  let claim = claims.get(ctx.db)
  if (!claim) claims.set(ctx.db, claim = buildClaim(ctx.db))
  const inserted = await claim.execute({ macHash: replayKey, expiresAt: new Date(expiresAtSeconds * 1000) })
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
