/**
 * createResetPasswordRequest, resetPassword and checkResetPasswordToken, with the reset mail
 * delivered to a real SMTP server on loopback and the token read from it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { assertForbidden, createPerson, globalKey, personSession, signInToken, type TestPerson } from '../helpers/accounts.js'

let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl, MAIL_FROM: 'gateway@example.com' } })
  // These tests replay Contember 2.0.8's answers, which reveal unknown e-mails (2.2's revealUserExists, off by default here).
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation { configure(config: { login: { revealUserExists: true } }) { ok } }')).body.data.configure.ok, true)
})
after(async () => {
  await server.close()
  await sink.close()
})

const REQUEST = 'mutation($email: String!, $options: CreateResetPasswordRequestOptions) { createResetPasswordRequest(email: $email, options: $options) { ok error { code developerMessage endUserMessage } errors { code } } }'
const RESET = 'mutation($token: String!, $password: String!) { resetPassword(token: $token, password: $password) { ok error { code developerMessage endUserMessage } errors { code } } }'
const CHECK = 'query($requestId: String!, $token: String!) { checkResetPasswordToken(requestId: $requestId, token: $token) }'

/** Requests a reset for the person and returns the token from the delivered mail and the request id. */
async function requestReset(person: TestPerson, options?: Record<string, string>) {
  const before = sink.mailsTo(person.email).length
  const response = await gql(server.url, LOGIN_TOKEN, REQUEST, { email: person.email, options })
  assert.deepEqual(response.body, { data: { createResetPasswordRequest: { ok: true, error: null, errors: [] } } })
  for (let waited = 0; sink.mailsTo(person.email).length === before; waited += 20) {
    assert.ok(waited < 15_000, 'the reset mail did not arrive')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const mail = sink.mailsTo(person.email).at(-1)!
  const token = /<code>([0-9a-f]{40})<\/code>/.exec(mail.html)?.[1]
  assert.ok(token, mail.html)
  const [row] = await server.runtime.database.rows<{ id: string }>(sql`select t.id from person_token t join person p on p.id = t.person_id where p.email = ${person.email} order by t.created_at desc limit 1`)
  return { mail, token, requestId: row.id }
}

test('the reset mail arrives over SMTP with a 40-hex token; the token sets a new password once and ends sessions', async () => {
  const alice = await personSession(server.url)
  const { mail, token, requestId } = await requestReset(alice)
  assert.equal(mail.subject, 'Password reset')
  assert.deepEqual(mail.to, [alice.email])
  assert.match(mail.html, new RegExp(alice.email.replace(/\./g, '\\.')))

  const [stored] = await server.runtime.database.rows<{ type: string, minutes: number, token_hash: string }>(
    sql`select type, round(extract(epoch from expires_at - created_at) / 60)::int as minutes, token_hash from person_token where id = ${requestId}`)
  assert.deepEqual([stored.type, stored.minutes], ['password_reset', 60])
  assert.notEqual(stored.token_hash, token)
  assert.equal((await gql(server.url, LOGIN_TOKEN, CHECK, { requestId, token })).body.data.checkResetPasswordToken, 'VALID')

  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, RESET, { token, password: 'Reset-Password-1' })).body,
    { data: { resetPassword: { ok: true, error: null, errors: [] } } })
  assert.equal((await gql(server.url, alice.token, '{ me { id } }')).status, 401, 'the reset ended the session')
  await signInToken(server.url, alice.email, 'Reset-Password-1')

  const used = await gql(server.url, LOGIN_TOKEN, RESET, { token, password: 'Reset-Password-2' })
  assert.equal(used.body.data.resetPassword.error.code, 'TOKEN_USED')
  assert.match(used.body.data.resetPassword.error.developerMessage, /^Token used at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  assert.deepEqual(used.body.data.resetPassword.errors, [{ code: 'TOKEN_USED' }])
  assert.equal((await gql(server.url, LOGIN_TOKEN, CHECK, { requestId, token })).body.data.checkResetPasswordToken, 'TOKEN_USED')
})

test('createResetPasswordRequest: unknown e-mail is PERSON_NOT_FOUND (as 2.0.8); permissions', async () => {
  const unknown = await gql(server.url, LOGIN_TOKEN, REQUEST, { email: 'ghost@example.com' })
  assert.deepEqual(unknown.body, { data: { createResetPasswordRequest: { ok: false, error: { code: 'PERSON_NOT_FOUND', developerMessage: 'Person was not found.', endUserMessage: null }, errors: [{ code: 'PERSON_NOT_FOUND' }] } } })
  const alice = await personSession(server.url)
  assertForbidden(await gql(server.url, alice.token, REQUEST, { email: alice.email }), 'createResetPasswordRequest', 'You are not allowed to initialize reset password request')
  const creator = await globalKey(server.url, ['project_creator'])
  assertForbidden(await gql(server.url, creator.token, REQUEST, { email: alice.email }), 'createResetPasswordRequest', 'You are not allowed to initialize reset password request')
  assert.equal((await gql(server.url, ROOT_TOKEN, REQUEST, { email: alice.email })).body.data.createResetPasswordRequest.ok, true)
})

test('a disabled person still gets the mail (Contember); the e-mail is matched in any case', async () => {
  const bob = await createPerson(server.url)
  await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { disablePerson(personId: $id) { ok } }', { id: bob.personId })
  const upper = { ...bob, email: bob.email.toUpperCase() }
  const response = await gql(server.url, LOGIN_TOKEN, REQUEST, { email: upper.email })
  assert.equal(response.body.data.createResetPasswordRequest.ok, true)
  await sink.waitForMails(1)
  for (let waited = 0; sink.mailsTo(bob.email).length === 0; waited += 20) {
    assert.ok(waited < 15_000, 'no mail')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.deepEqual(sink.mailsTo(bob.email)[0].to, [bob.email], 'sent to the address as stored')
})

test('resetPassword errors: PASSWORD_TOO_WEAK first, TOKEN_NOT_FOUND, TOKEN_EXPIRED; permissions', async () => {
  const alice = await createPerson(server.url)
  const { token, requestId } = await requestReset(alice)
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, RESET, { token: 'f'.repeat(40), password: 'abc' })).body.data.resetPassword,
    { ok: false, error: { code: 'PASSWORD_TOO_WEAK', developerMessage: 'Password is too weak. Minimum length is 8', endUserMessage: null }, errors: [{ code: 'PASSWORD_TOO_WEAK' }] })
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, RESET, { token: 'f'.repeat(40), password: 'Long-Enough-1' })).body.data.resetPassword.error,
    { code: 'TOKEN_NOT_FOUND', developerMessage: 'Token not found', endUserMessage: null })

  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, RESET, { token, password: 'Long-Enough-1' }), 'resetPassword', 'You are not allowed to perform reset password reset')

  await server.runtime.database.rows(sql`update person_token set expires_at = now() - interval '1 minute' where id = ${requestId}`)
  const expired = await gql(server.url, LOGIN_TOKEN, RESET, { token, password: 'Long-Enough-1' })
  assert.equal(expired.body.data.resetPassword.error.code, 'TOKEN_EXPIRED')
  assert.match(expired.body.data.resetPassword.error.developerMessage, /^Token expired at \d{4}-\d\d-\d\dT/)
  assert.equal((await gql(server.url, LOGIN_TOKEN, CHECK, { requestId, token })).body.data.checkResetPasswordToken, 'TOKEN_EXPIRED')
  assert.equal((await gql(server.url, LOGIN_TOKEN, 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok } }', { email: alice.email, password: alice.password })).body.data.signIn.ok, true, 'nothing changed')
})

test('checkResetPasswordToken: every code (Contember threw an internal error instead)', async () => {
  const alice = await createPerson(server.url)
  const { token, requestId } = await requestReset(alice)
  const check = async (vars: { requestId: string, token: string }) => (await gql(server.url, LOGIN_TOKEN, CHECK, vars)).body.data.checkResetPasswordToken
  assert.equal(await check({ requestId, token }), 'VALID')
  assert.equal(await check({ requestId: '', token }), 'VALID', 'the mail carries only the token: an empty requestId looks it up alone')
  assert.equal(await check({ requestId, token: 'a'.repeat(40) }), 'TOKEN_INVALID')
  assert.equal(await check({ requestId: '', token: 'a'.repeat(40) }), 'TOKEN_NOT_FOUND')
  assert.equal(await check({ requestId: '00000000-0000-0000-0000-000000000000', token }), 'REQUEST_NOT_FOUND')
  assert.equal(await check({ requestId: 'not-a-uuid', token }), 'REQUEST_NOT_FOUND')
  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, CHECK, { requestId, token }), 'checkResetPasswordToken', 'You are not allowed to check a reset password token', 400)
})

test('the preferred project brands the mail: the only project, or mailProject among several', async () => {
  const alice = await createPerson(server.url)
  const projects = await server.runtime.database.rows<{ id: string }>(sql`insert into project (slug, name) values ('reset_a', 'Project A'), ('reset_b', 'Project B') returning id`)
  await server.runtime.database.rows(sql`insert into project_membership (project_id, identity_id, role) values (${projects[0].id}, ${alice.identityId}, 'admin')`)
  assert.match((await requestReset(alice)).mail.html, / in Project A\./)
  await server.runtime.database.rows(sql`insert into project_membership (project_id, identity_id, role) values (${projects[1].id}, ${alice.identityId}, 'admin')`)
  assert.doesNotMatch((await requestReset(alice)).mail.html, / in Project /)
  assert.match((await requestReset(alice, { mailProject: 'reset_b' })).mail.html, / in Project B\./)
})

test('audit: password_reset_init and password_reset, success and failure, never with the token', async () => {
  const alice = await createPerson(server.url)
  const { token } = await requestReset(alice)
  await gql(server.url, LOGIN_TOKEN, RESET, { token, password: 'Audited-Reset-1' })
  await gql(server.url, LOGIN_TOKEN, RESET, { token, password: 'Audited-Reset-2' })
  const events = await server.runtime.database.rows<{ type: string, success: boolean, error_code: string | null }>(
    sql`select type, success, error_code from audit_event where target_person_id = ${alice.personId} and type like 'password_reset%' order by created_at, seq`)
  assert.deepEqual(events.map((e) => [e.type, e.success, e.error_code]), [
    ['password_reset_init', true, null], ['password_reset', true, null], ['password_reset', false, 'TOKEN_USED'],
  ])
  const [all] = await server.runtime.database.rows<{ dump: string }>(sql`select string_agg(row_to_json(a)::text, ' ') as dump from audit_event a`)
  assert.ok(!all.dump.includes(token))
  assert.ok(!all.dump.includes('Audited-Reset-1'))
})
