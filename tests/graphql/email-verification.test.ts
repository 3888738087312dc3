/**
 * requestEmailVerification and verifyEmail (2.2) over HTTP with tokens read from the real SMTP
 * sink: always ok (no account enumeration), one mail per eligible request, single-use tokens,
 * each VerifyEmailErrorCode, Person.emailVerified, the 2.0.8 immediate e-mail change kept by
 * default (the new address unverified), and the permission denials.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { assertForbidden, globalKey, personSession, uniqueEmail } from '../helpers/accounts.js'

let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl, MAIL_FROM: 'gateway@example.com' } })
})
after(async () => {
  await server.close()
  await sink.close()
})

const REQUEST = 'mutation($email: String!, $options: EmailVerificationOptions) { requestEmailVerification(email: $email, options: $options) { ok error { code developerMessage } } }'
const VERIFY = 'mutation($token: String!) { verifyEmail(token: $token) { ok error { code developerMessage } } }'
const ME = '{ me { person { email emailVerified } } }'
const OK = { ok: true, error: null }

async function requestAndReadToken(email: string, count: number): Promise<string> {
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, REQUEST, { email })).body.data.requestEmailVerification, OK)
  const mails = await sink.waitForMailTo(email, count)
  const mail = mails[count - 1]
  assert.equal(mail.subject, 'Verify your e-mail address')
  const token = /<code>([0-9a-f]{40})<\/code>/.exec(mail.html)?.[1]
  assert.ok(token, mail.html)
  return token
}

const verify = async (token: string) => (await gql(server.url, LOGIN_TOKEN, VERIFY, { token })).body.data.verifyEmail
const emailVerified = async (token: string) => (await gql(server.url, token, ME)).body.data.me.person.emailVerified

test('request mails a token (stored hashed); verifyEmail sets emailVerified; the token works once; audited', async () => {
  const alice = await personSession(server.url)
  assert.equal(await emailVerified(alice.token), false)
  const token = await requestAndReadToken(alice.email, 1)
  const [row] = await server.runtime.database.rows<{ token_hash: string, expires_at: Date }>(
    sql`select token_hash, expires_at from person_token where person_id = ${alice.personId} and type = 'email_verification'`)
  assert.match(row.token_hash, /^[0-9a-f]{64}$/)
  assert.notEqual(row.token_hash, token)
  const lifetime = new Date(row.expires_at).getTime() - Date.now()
  assert.ok(lifetime > 23 * 3_600_000 && lifetime <= 24 * 3_600_000, `about 24 hours, got ${lifetime}`)

  assert.deepEqual(await verify(token), OK)
  assert.equal(await emailVerified(alice.token), true)
  const used = await verify(token)
  assert.equal(used.ok, false)
  assert.equal(used.error.code, 'TOKEN_USED')
  assert.match(used.error.developerMessage, /^Token used at \d{4}-/)

  const audit = await server.runtime.database.rows<{ type: string, success: boolean, error_code: string | null }>(
    sql`select type, success, error_code from audit_event where person_id = ${alice.personId} and type like 'email_verify%' order by created_at, seq`)
  assert.deepEqual(audit.map((event) => [event.type, event.success, event.error_code]),
    [['email_verify_init', true, null], ['email_verify_complete', true, null], ['email_verify_complete', false, 'TOKEN_USED']])
})

test('always ok: an unknown address, an already verified one and a disabled person get no mail', async () => {
  const unknown = uniqueEmail('nobody')
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, REQUEST, { email: unknown })).body.data.requestEmailVerification, OK)

  const bob = await personSession(server.url)
  await verify(await requestAndReadToken(bob.email, 1))
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, REQUEST, { email: bob.email })).body.data.requestEmailVerification, OK)

  const carol = await personSession(server.url)
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { disablePerson(personId: $id) { ok } }', { id: carol.personId })).body.data.disablePerson.ok, true)
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, REQUEST, { email: carol.email })).body.data.requestEmailVerification, OK)

  // A later mail to someone else proves the outbox has drained past the three requests.
  const marker = await personSession(server.url)
  await requestAndReadToken(marker.email, 1)
  assert.equal(sink.mailsTo(unknown).length, 0)
  assert.equal(sink.mailsTo(bob.email).length, 1)
  assert.equal(sink.mailsTo(carol.email).length, 0)
})

test('verifyEmail errors: TOKEN_NOT_FOUND (unknown, malformed, superseded), TOKEN_EXPIRED, TOKEN_INVALID after an address change', async () => {
  for (const token of ['f'.repeat(40), 'not a token']) {
    assert.deepEqual(await verify(token), { ok: false, error: { code: 'TOKEN_NOT_FOUND', developerMessage: 'Token not found' } })
  }
  const dave = await personSession(server.url)
  const first = await requestAndReadToken(dave.email, 1)
  const second = await requestAndReadToken(dave.email, 2)
  assert.equal((await verify(first)).error.code, 'TOKEN_NOT_FOUND', 'a new request retires the earlier link')

  await server.runtime.database.rows(sql`update person_token set expires_at = now() - interval '1 minute' where person_id = ${dave.personId} and type = 'email_verification'`)
  const expired = await verify(second)
  assert.equal(expired.error.code, 'TOKEN_EXPIRED')
  assert.match(expired.error.developerMessage, /^Token expired at /)

  const erin = await personSession(server.url)
  const token = await requestAndReadToken(erin.email, 1)
  const changed = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!, $email: String!) { changeProfile(personId: $id, email: $email) { ok } }', { id: erin.personId, email: uniqueEmail('erin') })
  assert.equal(changed.body.data.changeProfile.ok, true)
  assert.deepEqual(await verify(token), { ok: false, error: { code: 'TOKEN_INVALID', developerMessage: 'The token does not match the current e-mail address of the account' } })
  assert.equal(await emailVerified(erin.token), false)
})

test('by default (emailChange.requireVerification false) changeMyProfile swaps the address at once, as 2.0.8, and it is unverified', async () => {
  const frank = await personSession(server.url)
  await verify(await requestAndReadToken(frank.email, 1))
  assert.equal(await emailVerified(frank.token), true)
  const next = uniqueEmail('frank')
  const changed = await gql(server.url, frank.token, 'mutation($email: String) { changeMyProfile(email: $email) { ok error { code } } }', { email: next })
  assert.deepEqual(changed.body.data.changeMyProfile, OK)
  assert.deepEqual((await gql(server.url, frank.token, ME)).body.data.me.person, { email: next, emailVerified: false })
  assert.equal(sink.mailsTo(next).length, 0, 'no confirmation mail in the 2.0.8 behaviour')
})

test('requestEmailVerification and verifyEmail: allowed to the login token and a person; refused to a key with neither role', async () => {
  const grace = await personSession(server.url)
  assert.deepEqual((await gql(server.url, grace.token, REQUEST, { email: grace.email })).body.data.requestEmailVerification, OK)
  const key = await globalKey(server.url, ['project_creator'])
  assertForbidden(await gql(server.url, key.token, REQUEST, { email: grace.email }), 'requestEmailVerification', 'You are not allowed to request e-mail verification')
  assertForbidden(await gql(server.url, key.token, VERIFY, { token: 'f'.repeat(40) }), 'verifyEmail', 'You are not allowed to verify an e-mail address')
  assertForbidden(await gql(server.url, key.token, 'mutation { confirmEmailChange(token: "x") { ok } }'), 'confirmEmailChange', 'You are not allowed to confirm an e-mail change')
})
