/**
 * Delivers mail_outbox rows after their transaction committed. A writer's notify() makes the
 * dispatcher look for that row at once (retrying briefly until the commit makes it visible); a
 * poll picks up retries and rows written by other nodes. Attempt n is due `retryDelaysSeconds[n]`
 * after the mail was written, so the schedule needs no extra column and survives restarts.
 * A row is claimed by bumping `attempts` from the value read (optimistic), so two nodes never
 * send the same attempt. Without SMTP_URL mails are only logged and stay in the outbox.
 */
import { and, asc, eq, gt, isNull, lt } from 'drizzle-orm'
import nodemailer, { type Transporter } from 'nodemailer'
import { mailOutbox } from '../../db/schema.js'
import type { DomainContext } from '../context.js'

/** The part of a pino/Fastify logger the dispatcher uses. */
export interface MailLogger {
  info(object: object, message: string): void
  warn(object: object, message: string): void
  error(object: object, message: string): void
}

export interface MailDispatcher {
  /** Stops polling, waits for deliveries in flight. */
  close(): Promise<void>
}

type OutboxRow = typeof mailOutbox.$inferSelect

/** How long to wait for a notified row to become visible (its transaction to commit). */
const VISIBILITY_RETRIES_MS = [0, 10, 50, 200, 1000, 3000]
/** Rows older than this are left for an operator: their tokens have long expired. */
const MAX_AGE_MS = 3 * 24 * 3600_000
const POLL_BATCH = 20

export function startMailDispatcher(ctx: DomainContext, log: MailLogger): MailDispatcher {
  const { smtpUrl, from, pollIntervalSeconds, retryDelaysSeconds } = ctx.config.mail
  const production = ctx.config.nodeEnv === 'production'
  const transport: Transporter | undefined = smtpUrl
    ? nodemailer.createTransport(smtpUrl, { from })
    : undefined
  const inFlight = new Set<Promise<void>>()
  const timers = new Set<NodeJS.Timeout>()
  let closed = false

  const track = (work: Promise<void>) => {
    const tracked = work.catch((error: unknown) => {
      if (!closed) log.error({ err: error }, 'mail dispatcher failed')
    }).finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
  }

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (!closed) run()
    }, ms)
    timers.add(timer)
  }

  const logOnly = (row: OutboxRow) => {
    const base = { mailId: row.id, type: row.mailType, to: row.recipient }
    // Bodies carry one-time tokens and generated passwords: only development sees them.
    if (production) log.info(base, 'mail not sent (no SMTP_URL configured); kept in the outbox')
    else log.info({ ...base, subject: row.subject, html: ctx.encryption.decrypt(row.bodyEncrypted) }, 'mail not sent (no SMTP_URL configured); kept in the outbox')
  }

  const deliver = async (row: OutboxRow) => {
    if (!transport) return logOnly(row)
    const claimed = await ctx.db.update(mailOutbox).set({ attempts: row.attempts + 1 })
      .where(and(eq(mailOutbox.id, row.id), eq(mailOutbox.attempts, row.attempts), isNull(mailOutbox.sentAt)))
      .returning({ id: mailOutbox.id })
    if (claimed.length === 0) return
    try {
      await transport.sendMail({
        from,
        to: row.recipient,
        subject: row.subject,
        html: ctx.encryption.decrypt(row.bodyEncrypted),
        replyTo: row.replyTo ?? undefined,
      })
      await ctx.db.update(mailOutbox).set({ sentAt: ctx.clock(), lastError: null }).where(eq(mailOutbox.id, row.id))
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      log.warn({ mailId: row.id, attempt: row.attempts + 1, error: message }, 'mail delivery failed')
      await ctx.db.update(mailOutbox).set({ lastError: message.slice(0, 1000) }).where(eq(mailOutbox.id, row.id))
    }
  }

  /** A notified row: deliver its first attempt as soon as its transaction has committed. */
  const deliverWhenVisible = (mailId: string, retry = 0) => {
    track((async () => {
      const [row] = await ctx.db.select().from(mailOutbox).where(eq(mailOutbox.id, mailId))
      if (!row) {
        // Not committed yet (or rolled back): look again shortly; the poll is the safety net.
        if (retry + 1 < VISIBILITY_RETRIES_MS.length) later(VISIBILITY_RETRIES_MS[retry + 1], () => deliverWhenVisible(mailId, retry + 1))
        return
      }
      if (row.sentAt || row.attempts > 0) return
      await deliver(row)
    })())
  }

  const isDue = (row: OutboxRow, now: number) =>
    row.attempts < retryDelaysSeconds.length && row.createdAt.getTime() + retryDelaysSeconds[row.attempts] * 1000 <= now

  let polling = false
  const poll = () => {
    if (polling || !transport) return
    polling = true
    track((async () => {
      try {
        const now = ctx.clock().getTime()
        const rows = await ctx.db.select().from(mailOutbox)
          .where(and(isNull(mailOutbox.sentAt), lt(mailOutbox.attempts, retryDelaysSeconds.length), gt(mailOutbox.createdAt, new Date(now - MAX_AGE_MS))))
          .orderBy(asc(mailOutbox.createdAt))
          .limit(POLL_BATCH)
        for (const row of rows) if (!closed && isDue(row, now)) await deliver(row)
      } finally {
        polling = false
      }
    })())
  }

  const unsubscribe = ctx.outbox.subscribe((mailId) => {
    if (!closed) deliverWhenVisible(mailId)
  })
  const interval = transport ? setInterval(poll, pollIntervalSeconds * 1000) : undefined
  interval?.unref()
  if (transport) poll()

  return {
    async close() {
      if (closed) return
      closed = true
      unsubscribe()
      if (interval) clearInterval(interval)
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
      transport?.close()
    },
  }
}
