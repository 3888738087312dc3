/**
 * Confirmed e-mail change (2.2) over HTTP with Config.emailChange.requireVerification switched
 * on by `configure`: changeMyProfile keeps the old address and mails a token to the new one;
 * confirmEmailChange swaps it (verified), ends every session and tells the old address; each
 * ConfirmEmailChangeErrorCode; an admin's changeProfile stays immediate.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { createPerson, personSession, signInToken, uniqueEmail } from '../helpers/accounts.js'

let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl, MAIL_FROM: 'gateway@example.com' } })
  const configured = await gql(server.url, ROOT_TOKEN, 'mutation { configure(config: { emailChange: { requireVerification: true } }) { ok error { code developerMessage } } }')
  assert.equal(configured.body.data.configure.ok, true, configured.text)
})
after(async () => {
  await server.close()
  await sink.close()
})

const CHANGE_MY_PROFILE = 'mutation($email: String, $name: String) { changeMyProfile(email: $email, name: $name) { ok error { code developerMessage } } }'
const CONFIRM = 'mutation($token: String!) { confirmEmailChange(token: $token) { ok error { code developerMessage } } }'
const ME = '{ me { person { email name emailVerified } } }'
const OK = { ok: true, error: null }

async function requestChange(token: string, email: string, count = 1, name?: string): Promise<string> {
  assert.deepEqual((await gql(server.url, token, CHANGE_MY_PROFILE, { email, name })).body.data.changeMyProfile, OK)
  const mails = await sink.waitForMailTo(email, count)
  const mail = mails[count - 1]
  assert.equal(mail.subject, 'Confirm your new e-mail address')
  const secret = /<code>([0-9a-f]{40})<\/code>/.exec(mail.html)?.[1]
  assert.ok(secret, mail.html)
  return secret
}

const confirm = async (token: string) => (await gql(server.url, LOGIN_TOKEN, CONFIRM, { token })).body.data.confirmEmailChange

test('changeMyProfile keeps the old address until confirmEmailChange; then the new one is verified, sessions end, the old address is told', async () => {
  const alice = await personSession(server.url)
  const next = uniqueEmail('alice.new')
  const token = await requestChange(alice.token, next, 1, 'Alice')
  assert.deepEqual((await gql(server.url, alice.token, ME)).body.data.me.person, { email: alice.email, name: 'Alice', emailVerified: false }, 'the name changes at once, the address waits')
  assert.equal((await gql(server.url, LOGIN_TOKEN, 'mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { ok } }', { e: alice.email, p: alice.password })).body.data.signIn.ok, true)

  assert.deepEqual(await confirm(token), OK)
  assert.equal((await gql(server.url, alice.token, ME)).status, 401, 'every session ended')
  const fresh = await signInToken(server.url, next, alice.password)
  assert.deepEqual((await gql(server.url, fresh, ME)).body.data.me.person, { email: next, name: 'Alice', emailVerified: true })
  const [notice] = await sink.waitForMailTo(alice.email)
  assert.equal(notice.subject, 'Your e-mail address was changed')
  assert.match(notice.html, new RegExp(next.replace(/\./g, '\\.')))

  const used = await confirm(token)
  assert.equal(used.error.code, 'TOKEN_USED')
  const audit = await server.runtime.database.rows<{ type: string, success: boolean, event_data: Record<string, unknown> | null }>(
    sql`select type, success, event_data from audit_event where target_person_id = ${alice.personId} and type like 'email_change%' order by created_at, seq`)
  // email_change_init and email_change share a transaction (and created_at): seq keeps write order.
  assert.deepEqual(audit.map((event) => `${event.type}:${event.success}`),
    ['email_change_init:true', 'email_change:true', 'email_change_complete:true', 'email_change_complete:false'])
  assert.deepEqual(audit.find((event) => event.type === 'email_change_complete' && event.success)?.event_data, { signedOutSessions: 2 })
})

test('confirmEmailChange errors: TOKEN_NOT_FOUND, TOKEN_EXPIRED, EMAIL_ALREADY_EXISTS, TOKEN_INVALID, INVALID_EMAIL_FORMAT', async () => {
  assert.deepEqual(await confirm('0'.repeat(40)), { ok: false, error: { code: 'TOKEN_NOT_FOUND', developerMessage: 'Token not found' } })

  const bob = await personSession(server.url)
  const first = await requestChange(bob.token, uniqueEmail('bob.a'))
  const second = await requestChange(bob.token, uniqueEmail('bob.b'))
  assert.equal((await confirm(first)).error.code, 'TOKEN_NOT_FOUND', 'a newer request retires the older one')
  await server.runtime.database.rows(sql`update person_token set expires_at = now() - interval '1 minute' where person_id = ${bob.personId} and type = 'email_change'`)
  assert.equal((await confirm(second)).error.code, 'TOKEN_EXPIRED')

  const carol = await personSession(server.url)
  const wanted = uniqueEmail('carol.new')
  const token = await requestChange(carol.token, wanted)
  await createPerson(server.url, { email: wanted })
  assert.deepEqual(await confirm(token), { ok: false, error: { code: 'EMAIL_ALREADY_EXISTS', developerMessage: `User with email ${wanted} already exists` } })
  assert.equal((await gql(server.url, carol.token, ME)).body.data.me.person.email, carol.email)

  const dave = await personSession(server.url)
  const daveToken = await requestChange(dave.token, uniqueEmail('dave.new'))
  // An administrator changes the address in between (immediately, config or not): the request is void.
  const adminEmail = uniqueEmail('dave.admin')
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation($id: String!, $email: String!) { changeProfile(personId: $id, email: $email) { ok } }', { id: dave.personId, email: adminEmail })).body.data.changeProfile.ok, true)
  assert.equal((await gql(server.url, dave.token, ME)).body.data.me.person.email, adminEmail)
  assert.deepEqual(await confirm(daveToken), { ok: false, error: { code: 'TOKEN_INVALID', developerMessage: 'The account changed since the e-mail change was requested' } })

  // A stored request whose address is malformed (written by an older system) is refused, not applied.
  const erin = await personSession(server.url)
  const erinToken = await requestChange(erin.token, uniqueEmail('erin.new'))
  await server.runtime.database.rows(sql`update person_token set payload = jsonb_set(payload, '{newEmail}', '"not-an-email"') where person_id = ${erin.personId} and type = 'email_change'`)
  assert.deepEqual(await confirm(erinToken), { ok: false, error: { code: 'INVALID_EMAIL_FORMAT', developerMessage: 'E-mail address is not in a valid format' } })
})

test('changeMyProfile still validates at once: INVALID_EMAIL_FORMAT and EMAIL_ALREADY_EXISTS, no mail', async () => {
  const frank = await personSession(server.url)
  const taken = await createPerson(server.url)
  assert.equal((await gql(server.url, frank.token, CHANGE_MY_PROFILE, { email: 'nope' })).body.data.changeMyProfile.error.code, 'INVALID_EMAIL_FORMAT')
  assert.equal((await gql(server.url, frank.token, CHANGE_MY_PROFILE, { email: taken.email })).body.data.changeMyProfile.error.code, 'EMAIL_ALREADY_EXISTS')
  const tokens = await server.runtime.database.rows<{ n: number }>(sql`select count(*)::int as n from person_token where person_id = ${frank.personId} and type = 'email_change'`)
  assert.equal(tokens[0].n, 0)
})
