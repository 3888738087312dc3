/**
 * A real SMTP server on a loopback port (smtp-server), collecting every delivered mail parsed by
 * mailparser. Start one per test server and pass `smtpUrl` as SMTP_URL.
 *
 *   const sink = await startSmtpSink()
 *   const server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl } })
 *   ... trigger a mail ...
 *   const [mail] = await sink.waitForMails(1)
 *   await sink.close()
 */
import { SMTPServer } from 'smtp-server'
import { simpleParser } from 'mailparser'

export interface ReceivedMail {
  from: string
  /** Envelope recipients, as the client sent them in RCPT TO. */
  to: string[]
  /** The To header as written by the sender. */
  toHeader: string
  subject: string
  html: string
  text: string
  replyTo: string | undefined
  headers: Map<string, unknown>
  raw: string
}

export interface SmtpSink {
  smtpUrl: string
  port: number
  mails: ReceivedMail[]
  /** Resolves once at least `count` mails arrived in total (rejects after `timeoutMs`). */
  waitForMails(count: number, timeoutMs?: number): Promise<ReceivedMail[]>
  /** Mails addressed to this recipient (case-insensitive). */
  mailsTo(address: string): ReceivedMail[]
  /** Resolves with the mails to this recipient once there are at least `count` of them. */
  waitForMailTo(address: string, count?: number, timeoutMs?: number): Promise<ReceivedMail[]>
  /** The next `count` transactions are refused with a temporary 451 (to test retries). */
  failNext(count: number): void
  /** Refusals armed by failNext that no delivery has consumed yet. */
  failuresLeft(): number
  close(): Promise<void>
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ReceivedMail[] = []
  const waiters: { count: number, resolve: () => void }[] = []
  let failures = 0
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (mails.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }
  const server = new SMTPServer({
    authOptional: true,
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        if (failures > 0) {
          failures--
          const error = Object.assign(new Error('Try again later'), { responseCode: 451 })
          return callback(error)
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        simpleParser(raw).then((parsed) => {
          mails.push({
            from: parsed.from?.text ?? '',
            to: session.envelope.rcptTo.map((r) => r.address),
            toHeader: (Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : parsed.to?.text) ?? '',
            subject: parsed.subject ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            text: parsed.text ?? '',
            replyTo: parsed.replyTo?.text,
            headers: parsed.headers as Map<string, unknown>,
            raw,
          })
          callback()
          settle()
        }, (error: Error) => callback(error))
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.server.address() as { port: number }).port
  const mailsTo = (address: string) => mails.filter((mail) => mail.to.some((to) => to.toLowerCase() === address.toLowerCase()))
  return {
    smtpUrl: `smtp://127.0.0.1:${port}`,
    port,
    mails,
    waitForMails(count, timeoutMs = 15_000) {
      if (mails.length >= count) return Promise.resolve(mails.slice())
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} mail(s), got ${mails.length}`)), timeoutMs)
        waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(mails.slice()) } })
      })
    },
    mailsTo,
    async waitForMailTo(address, count = 1, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (mailsTo(address).length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} mail(s) to ${address}, got ${mailsTo(address).length}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return mailsTo(address)
    },
    failNext(count) {
      failures = count
    },
    failuresLeft: () => failures,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
