/**
 * A session refused for idleness (auth policy idleTimeout) is marked expired at the moment it
 * went idle and audited once as `session_expired_idle`. Off the request path, like last-use
 * tracking: the refusal does not wait for it. The conditional update lets only one request (of
 * any node) record the event; later ones meet an ordinary expired key.
 */
import { and, eq, gt, isNull, or } from 'drizzle-orm'
import { apiKey } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { DomainContext } from '../context.js'

export interface IdleSession {
  apiKeyId: string
  personId: string | null
  lastActive: Date
  expiredAt: Date
}

export function expireIdleSession(ctx: DomainContext, session: IdleSession): void {
  setImmediate(() => {
    ctx.db.transaction(async (tx) => {
      const ended = await tx.update(apiKey).set({ expiresAt: session.expiredAt })
        .where(and(eq(apiKey.id, session.apiKeyId), or(isNull(apiKey.expiresAt), gt(apiKey.expiresAt, session.expiredAt))))
        .returning({ id: apiKey.id })
      if (ended.length === 0) return
      await recordAudit(tx, undefined, {
        type: 'session_expired_idle', personId: session.personId,
        metadata: { sessionId: session.apiKeyId }, eventData: { lastUsedAt: session.lastActive.toISOString(), expiredAt: session.expiredAt.toISOString() },
      })
    }).catch(() => {})
  })
}
