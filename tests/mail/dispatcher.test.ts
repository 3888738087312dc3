/**
 * The mail subsystem end to end: sendTemplatedMail inside a transaction of the running server,
 * delivery by the dispatcher to a real SMTP server on loopback, the outbox rows it leaves.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { eq } from 'drizzle-orm'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { sendTemplatedMail } from '../../src/domain/mail/index.js'
import { mailOutbox, mailTemplate, project } from '../../src/db/schema.js'

async function withServer(env: Record<string, string>, run: (server: TestServer, sink: SmtpSink) => Promise<void>, captureLogs = false) {
  const sink = await startSmtpSink()
  const server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl, MAIL_FROM: 'gateway@example.com', ...env }, captureLogs })
  try {
    await run(server, sink)
  } finally {
    await server.close()
    await sink.close()
  }
}

async function send(server: TestServer, mail: Parameters<typeof sendTemplatedMail>[2]) {
  const { ctx } = server.runtime
  await ctx.db.transaction(async (tx) => sendTemplatedMail(ctx, tx, mail))
}

/** The sink has the mail before the dispatcher records it as sent: wait for the record. */
async function sentRows(server: TestServer, count: number) {
  for (;;) {
    const rows = await server.runtime.ctx.db.select().from(mailOutbox)
    if (rows.filter((r) => r.sentAt).length >= count) return rows
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function createProject(server: TestServer, slug: string): Promise<string> {
  const [row] = await server.runtime.ctx.db.insert(project).values({ slug, name: `Project ${slug}` }).returning({ id: project.id })
  return row.id
}

test('built-in templates are rendered with Mustache, wrapped in the layout and delivered over SMTP', async () => {
  await withServer({}, async (server, sink) => {
    await send(server, {
      type: 'NEW_USER_INVITED', to: 'New.User@Example.com',
      variables: { email: 'new.user@example.com', password: 'Pa<ss>word1', token: null, project: 'Blog & News', projectSlug: 'blog' },
    })
    const [mail] = await sink.waitForMails(1)
    assert.equal(mail.to[0].toLowerCase(), 'new.user@example.com')
    assert.match(mail.toHeader, /New\.User@/, 'the address is not normalized')
    assert.equal(mail.from, 'gateway@example.com')
    assert.equal(mail.subject, 'You have been invited to Blog & News')
    assert.match(mail.html, /background:#f8f8f8/)
    assert.match(mail.html, /Pa&lt;ss&gt;word1/, 'variables are HTML-escaped in the body')
    assert.match(mail.html, /Blog &amp; News/)
    assert.doesNotMatch(mail.html, /Set your password with this token/, 'a null token section is not rendered')

    const [row] = await sentRows(server, 1)
    assert.equal(row.attempts, 1)
    assert.equal(row.lastError, null)
    assert.doesNotMatch(row.bodyEncrypted, /Pa&lt;ss/, 'the body is encrypted at rest')
    assert.match(server.runtime.ctx.encryption.decrypt(row.bodyEncrypted), /Pa&lt;ss&gt;word1/)
  })
})

test('template lookup: project, then global, then built-in; variants do not fall back; replyTo and useLayout', async () => {
  await withServer({}, async (server, sink) => {
    const { db } = server.runtime.ctx
    const projectId = await createProject(server, 'mailproj')
    const otherProjectId = await createProject(server, 'otherproj')
    await db.insert(mailTemplate).values([
      { projectId: null, mailType: 'passwordReset', variant: '', subject: 'Global reset {{email}}', content: '<p>global {{token}}</p>', useLayout: true },
      { projectId, mailType: 'passwordReset', variant: '', subject: 'Project reset', content: '<p>project {{token}}</p>', useLayout: false, replyTo: 'help@example.com' },
      { projectId, mailType: 'passwordReset', variant: 'cs', subject: 'Obnova hesla', content: '<p>cs {{token}}</p>', useLayout: false },
    ])
    const variables = { email: 'a@example.com', token: 'abc123' }
    await send(server, { type: 'RESET_PASSWORD_REQUEST', to: 'a@example.com', projectId, variables })
    await sink.waitForMails(1)
    await send(server, { type: 'RESET_PASSWORD_REQUEST', to: 'b@example.com', projectId: otherProjectId, variables })
    await sink.waitForMails(2)
    await send(server, { type: 'RESET_PASSWORD_REQUEST', to: 'c@example.com', projectId, variant: 'cs', variables })
    await sink.waitForMails(3)
    // Variant "de" exists nowhere: the built-in default for that type, not the project's default variant.
    await send(server, { type: 'RESET_PASSWORD_REQUEST', to: 'd@example.com', projectId, variant: 'de', variables })
    await sink.waitForMails(4)
    await send(server, { type: 'RESET_PASSWORD_REQUEST', to: 'e@example.com', variables })
    await sink.waitForMails(5)

    const [own] = sink.mailsTo('a@example.com')
    assert.equal(own.subject, 'Project reset')
    assert.equal(own.html.trim(), '<p>project abc123</p>', 'useLayout false: no layout')
    assert.equal(own.replyTo, 'help@example.com')
    const [global] = sink.mailsTo('b@example.com')
    assert.equal(global.subject, 'Global reset a@example.com')
    assert.match(global.html, /background:#f8f8f8.*<p>global abc123<\/p>/s)
    assert.equal(global.replyTo, undefined)
    assert.equal(sink.mailsTo('c@example.com')[0].subject, 'Obnova hesla')
    const builtIn = sink.mailsTo('d@example.com')[0]
    assert.equal(builtIn.subject, 'Password reset')
    assert.match(builtIn.html, /abc123/)
    assert.equal(sink.mailsTo('e@example.com')[0].subject, 'Global reset a@example.com', 'no project: the global template')
  })
})

test('a mail written in a rolled-back transaction is never sent', async () => {
  await withServer({}, async (server, sink) => {
    const { ctx } = server.runtime
    await assert.rejects(ctx.db.transaction(async (tx) => {
      await sendTemplatedMail(ctx, tx, { type: 'EXISTING_USER_INVITED', to: 'rolledback@example.com', variables: { project: 'X' } })
      throw new Error('abort')
    }), /abort/)
    await send(server, { type: 'EXISTING_USER_INVITED', to: 'committed@example.com', variables: { project: 'Y', email: 'committed@example.com' } })
    const mails = await sink.waitForMails(1)
    assert.deepEqual(mails.map((m) => m.to[0]), ['committed@example.com'])
    const rows = await ctx.db.select().from(mailOutbox)
    assert.deepEqual(rows.map((r) => r.recipient), ['committed@example.com'])
  })
})

test('a refused delivery is retried on the schedule and the error is recorded meanwhile', async () => {
  await withServer({ MAIL_RETRY_DELAYS: '0,1,1', MAIL_POLL_INTERVAL_SECONDS: '1' }, async (server, sink) => {
    sink.failNext(1)
    await send(server, { type: 'EXISTING_USER_INVITED', to: 'retry@example.com', variables: { project: 'Retry', email: 'retry@example.com' } })
    const [mail] = await sink.waitForMails(1)
    assert.equal(mail.subject, 'You have been invited to Retry')
    const [row] = await sentRows(server, 1)
    assert.equal(row.attempts, 2)
    assert.equal(row.lastError, null, 'a later success clears the error')
  })
})

test('a mail that keeps failing stops after the last attempt with its error kept', async () => {
  await withServer({ MAIL_RETRY_DELAYS: '0,1', MAIL_POLL_INTERVAL_SECONDS: '1' }, async (server, sink) => {
    sink.failNext(2)
    await send(server, { type: 'EXISTING_USER_INVITED', to: 'never@example.com', variables: { project: 'N' } })
    const { db } = server.runtime.ctx
    let row = (await db.select().from(mailOutbox))[0]
    // attempts is bumped when an attempt is claimed, before it reaches the sink: wait for the sink
    // to have refused both, or the next mail could take the second refusal instead.
    while (row.attempts < 2 || row.lastError === null || sink.failuresLeft() > 0) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      row = (await db.select().from(mailOutbox))[0]
    }
    assert.equal(row.sentAt, null)
    assert.match(row.lastError ?? '', /451|Try again later/)
    // A third mail succeeds and is the only one delivered: the failed row is not attempted again.
    await send(server, { type: 'EXISTING_USER_INVITED', to: 'ok@example.com', variables: { project: 'N' } })
    const mails = await sink.waitForMails(1)
    assert.deepEqual(mails.map((m) => m.to[0]), ['ok@example.com'])
    assert.equal((await db.select().from(mailOutbox).where(eq(mailOutbox.recipient, 'never@example.com')))[0].attempts, 2)
  })
})

async function waitForLog(server: TestServer, pattern: RegExp): Promise<string> {
  for (;;) {
    const line = server.logs.find((l) => pattern.test(l))
    if (line) return line
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('without SMTP_URL mails are logged and stay in the outbox; production logs carry no token or body', async () => {
  for (const nodeEnv of ['development', 'production']) {
    const server = await startTestServer({
      env: { NODE_ENV: nodeEnv, LOG_LEVEL: 'info', TENANTS_API_ALLOW_UNSIGNED: 'true' },
      captureLogs: true,
    })
    try {
      await send(server, {
        type: 'RESET_PASSWORD_REQUEST', to: 'nosmtp@example.com',
        variables: { email: 'nosmtp@example.com', token: 'feedfacefeedfacefeedfacefeedfacefeedface' },
      })
      const line = await waitForLog(server, /no SMTP_URL configured/)
      assert.match(line, /nosmtp@example\.com/)
      if (nodeEnv === 'production') {
        assert.doesNotMatch(line, /feedface/, 'no token in production logs')
        assert.doesNotMatch(line, /Password reset/)
      } else {
        assert.match(line, /feedface/, 'development logs show the mail so it can be used')
      }
      const rows = await server.runtime.ctx.db.select().from(mailOutbox)
      assert.equal(rows.length, 1)
      assert.equal(rows[0].sentAt, null)
      assert.equal(rows[0].attempts, 0)
    } finally {
      await server.close()
    }
  }
})
