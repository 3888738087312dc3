/** signIn, createSessionToken and signOut (transcript §D and §F). */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_EMAIL, ROOT_PASSWORD, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, createPerson, globalKey, personSession, signInToken, uniqueEmail } from '../helpers/accounts.js'

let server: TestServer
before(async () => {
  server = await startTestServer()
  // These tests replay Contember 2.0.8's answers, which reveal unknown e-mails (2.2's revealUserExists, off by default here).
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation { configure(config: { login: { revealUserExists: true } }) { ok } }')).body.data.configure.ok, true)
})
after(async () => { await server.close() })

const SIGN_IN = 'mutation($email: String!, $password: String!, $expiration: Int) { signIn(email: $email, password: $password, expiration: $expiration) { ok error { code developerMessage } errors { code } result { token person { id email identity { id roles } } } } }'
const SESSION_TOKEN = 'mutation($email: String, $personId: String, $expiration: Int) { createSessionToken(email: $email, personId: $personId, expiration: $expiration) { ok error { code developerMessage } result { token person { id email } } } }'
const SIGN_OUT = 'mutation($all: Boolean) { signOut(all: $all) { ok error { code developerMessage } errors { code } } }'
const ME = '{ me { id } }'

const rows = <T>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)
const keyByToken = async (token: string) => {
  const { createHash } = await import('node:crypto')
  const [row] = await rows<{ type: string, expiration: number | null, expires_at: Date | string, created_at: Date | string, disabled_at: unknown }>(
    sql`select type, expiration, expires_at, created_at, disabled_at from api_key where token_hash = ${createHash('sha256').update(token).digest('hex')}`)
  return row
}
const minutesBetween = (a: Date | string, b: Date | string) => Math.round((new Date(a).getTime() - new Date(b).getTime()) / 60_000)

test('transcript 18: no Authorization header is 401 even for signIn', async () => {
  const response = await gql(server.url, undefined, SIGN_IN, { email: 'a@example.com', password: 'x' })
  assert.equal(response.status, 401)
  assert.equal(response.text, '{"errors":[{"code":401,"message":"Authentication required"}]}')
})

test('transcript 19-22: success, wrong password, unknown e-mail, e-mail in another case', async () => {
  const alice = await createPerson(server.url, { email: uniqueEmail('alice'), password: 'AlicePassword123' })
  const ok = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: 'AlicePassword123' })
  assert.equal(ok.status, 200)
  const token = ok.body.data.signIn.result.token
  assert.match(token, /^[0-9a-f]{40}$/)
  assert.deepEqual(ok.body, { data: { signIn: { ok: true, error: null, errors: [], result: { token, person: { id: alice.personId, email: alice.email, identity: { id: alice.identityId, roles: null } } } } } })

  const wrong = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: 'WrongPassword123' })
  assert.deepEqual(wrong.body, { data: { signIn: { ok: false, error: { code: 'INVALID_PASSWORD', developerMessage: 'Password does not match' }, errors: [{ code: 'INVALID_PASSWORD' }], result: null } } })

  const unknown = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: 'nobody@example.com', password: 'WhateverPassword1' })
  assert.deepEqual(unknown.body, { data: { signIn: { ok: false, error: { code: 'UNKNOWN_EMAIL', developerMessage: 'Person with email nobody@example.com not found' }, errors: [{ code: 'UNKNOWN_EMAIL' }], result: null } } })

  const upper = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email.toUpperCase(), password: 'AlicePassword123' })
  assert.equal(upper.body.data.signIn.ok, true)
  assert.equal(upper.body.data.signIn.result.person.email, alice.email)

  const me = await gql(server.url, token, '{ me { id roles person { id email } } }')
  assert.deepEqual(me.body.data.me, { id: alice.identityId, roles: ['person'], person: { id: alice.personId, email: alice.email } })
})

test('transcript 23: the root person signs in with expiration 5: a session key of 5 minutes', async () => {
  const response = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: ROOT_EMAIL, password: ROOT_PASSWORD, expiration: 5 })
  assert.equal(response.body.data.signIn.ok, true)
  assert.equal(response.body.data.signIn.result.person.identity.roles, null)
  const key = await keyByToken(response.body.data.signIn.result.token)
  assert.equal(key.type, 'session')
  assert.equal(key.expiration, 5)
  assert.equal(minutesBetween(key.expires_at, key.created_at), 5)
})

test('expiration: default 30 minutes, 20160 kept, anything above the configured maximum capped', async () => {
  const alice = await createPerson(server.url)
  const expiry = async (expiration?: number) => keyByToken(await signInToken(server.url, alice.email, alice.password, expiration))
  const byDefault = await expiry()
  assert.equal(byDefault.expiration, null)
  assert.equal(minutesBetween(byDefault.expires_at, byDefault.created_at), 30)
  assert.equal(minutesBetween((await expiry(20160)).expires_at, byDefault.created_at), 20160)
  const capped = await expiry(100_000_000)
  assert.equal(capped.expiration, server.config.sessions.maxExpirationMinutes)
  assert.equal(minutesBetween(capped.expires_at, capped.created_at), server.config.sessions.maxExpirationMinutes)
})

test('transcript 24: the root token may sign in a person too, and sees its roles', async () => {
  const alice = await createPerson(server.url)
  const response = await gql(server.url, ROOT_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })
  assert.equal(response.body.data.signIn.ok, true)
  assert.deepEqual(response.body.data.signIn.result.person.identity.roles, ['person'])
})

test('a person session or a project_creator key may not sign in', async () => {
  const alice = await personSession(server.url)
  assertForbidden(await gql(server.url, alice.token, SIGN_IN, { email: alice.email, password: alice.password }), 'signIn', 'You are not allowed to sign in')
  const creator = await globalKey(server.url, ['project_creator'])
  assertForbidden(await gql(server.url, creator.token, SIGN_IN, { email: alice.email, password: alice.password }), 'signIn', 'You are not allowed to sign in')
})

test('a disabled person: a wrong password is INVALID_PASSWORD (no leak), the right one PERSON_DISABLED', async () => {
  const alice = await createPerson(server.url)
  const disabled = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { disablePerson(personId: $id) { ok } }', { id: alice.personId })
  assert.equal(disabled.body.data.disablePerson.ok, true)
  const wrong = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: 'WrongPassword123' })
  assert.equal(wrong.body.data.signIn.error.code, 'INVALID_PASSWORD')
  const right = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })
  assert.deepEqual(right.body.data.signIn.error, { code: 'PERSON_DISABLED', developerMessage: 'Person is disabled' })
})

test('a bcrypt hash verifies once and is re-hashed to argon2id', async () => {
  const email = uniqueEmail('legacy')
  const hash = bcrypt.hashSync('Legacy-Password-1', 4)
  assert.match(hash, /^\$2[ab]\$/)
  await gql(server.url, ROOT_TOKEN, 'mutation($email: String!, $hash: String) { signUp(email: $email, passwordHash: $hash) { ok } }', { email, hash })
  await signInToken(server.url, email, 'Legacy-Password-1')
  const [stored] = await rows<{ password_hash: string }>(sql`select password_hash from person where email = ${email}`)
  assert.match(stored.password_hash, /^\$argon2id\$/)
  await signInToken(server.url, email, 'Legacy-Password-1')
  const wrong = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email, password: 'Legacy-Password-2' })
  assert.equal(wrong.body.data.signIn.error.code, 'INVALID_PASSWORD')
})

test('a password over the maximum length is refused without hashing (INVALID_PASSWORD)', async () => {
  const alice = await createPerson(server.url)
  const response = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: 'x'.repeat(100_000) })
  assert.equal(response.body.data.signIn.error.code, 'INVALID_PASSWORD')
})

test('TOTP active: OTP_REQUIRED without a code, INVALID_OTP_TOKEN with a wrong one', async () => {
  const alice = await personSession(server.url)
  const prepared = await gql(server.url, alice.token, 'mutation { prepareOtp { ok result { otpSecret } } }')
  const { authenticator } = await import('otplib')
  const code = authenticator.generate(prepared.body.data.prepareOtp.result.otpSecret)
  const confirmed = await gql(server.url, alice.token, 'mutation($code: String!) { confirmOtp(otpToken: $code) { ok } }', { code })
  assert.equal(confirmed.body.data.confirmOtp.ok, true)
  const required = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })
  assert.deepEqual(required.body.data.signIn.error, { code: 'OTP_REQUIRED', developerMessage: '2FA is enabled. OTP token is required' })
  const invalid = await gql(server.url, LOGIN_TOKEN, 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password, otpToken: "12345x") { ok error { code developerMessage } } }', { email: alice.email, password: alice.password })
  assert.deepEqual(invalid.body.data.signIn.error, { code: 'INVALID_OTP_TOKEN', developerMessage: 'OTP token validation has failed' })
})

test('sign-ins are audited as login, success and failure, never with the password', async () => {
  const alice = await createPerson(server.url)
  await signInToken(server.url, alice.email, alice.password)
  await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: 'Wrong-Secret-42' })
  const events = await rows<{ success: boolean, error_code: string | null, event_data: unknown, person_input_identifier: string }>(
    sql`select success, error_code, event_data, person_input_identifier from audit_event where type = 'login' and person_id = ${alice.personId} order by created_at, seq`)
  assert.deepEqual(events.map((e) => [e.success, e.error_code]), [[true, null], [false, 'INVALID_PASSWORD']])
  assert.equal(events[0].person_input_identifier, alice.email)
  assert.doesNotMatch(JSON.stringify(events), new RegExp(`${alice.password}|Wrong-Secret-42`))
})

test('transcript 25-26: createSessionToken by e-mail with the root token', async () => {
  const alice = await createPerson(server.url)
  const response = await gql(server.url, ROOT_TOKEN, SESSION_TOKEN, { email: alice.email, expiration: 10 })
  const token = response.body.data.createSessionToken.result.token
  assert.deepEqual(response.body, { data: { createSessionToken: { ok: true, error: null, result: { token, person: { id: alice.personId, email: alice.email } } } } })
  assert.equal((await keyByToken(token)).expiration, 10)
  const me = await gql(server.url, token, '{ me { id person { email name } } }')
  assert.deepEqual(me.body.data.me, { id: alice.identityId, person: { email: alice.email, name: alice.email.split('@')[0] } })
})

test('createSessionToken: by person id, error codes, and the missing identifier', async () => {
  const alice = await createPerson(server.url)
  const byId = await gql(server.url, ROOT_TOKEN, SESSION_TOKEN, { personId: alice.personId })
  assert.equal(byId.body.data.createSessionToken.ok, true)
  const unknownEmail = await gql(server.url, ROOT_TOKEN, SESSION_TOKEN, { email: 'ghost@example.com' })
  assert.deepEqual(unknownEmail.body.data.createSessionToken, { ok: false, error: { code: 'UNKNOWN_EMAIL', developerMessage: 'Person with email ghost@example.com not found' }, result: null })
  for (const personId of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
    const unknownId = await gql(server.url, ROOT_TOKEN, SESSION_TOKEN, { personId })
    assert.deepEqual(unknownId.body.data.createSessionToken, { ok: false, error: { code: 'UNKNOWN_PERSON_ID', developerMessage: `Person with id ${personId} not found` }, result: null })
  }
  await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { disablePerson(personId: $id) { ok } }', { id: alice.personId })
  const disabled = await gql(server.url, ROOT_TOKEN, SESSION_TOKEN, { email: alice.email })
  assert.deepEqual(disabled.body.data.createSessionToken.error, { code: 'PERSON_DISABLED', developerMessage: `Person with id ${alice.personId} is disabled` })
  const neither = await gql(server.url, ROOT_TOKEN, SESSION_TOKEN, {})
  assert.equal(neither.status, 200)
  assert.deepEqual(neither.body, { errors: [{ message: 'Please provide either email or personId', locations: [{ line: 1, column: 65 }], path: ['createSessionToken'], extensions: { code: 'UserInputError' } }], data: { createSessionToken: null } })
})

test('createSessionToken permissions: project_admin for ordinary persons only; person and login denied', async () => {
  const admin = await personSession(server.url, ['project_admin'])
  const plain = await createPerson(server.url)
  const creator = await createPerson(server.url, { roles: ['project_creator'] })
  assert.equal((await gql(server.url, admin.token, SESSION_TOKEN, { email: plain.email })).body.data.createSessionToken.ok, true)
  assertForbidden(await gql(server.url, admin.token, SESSION_TOKEN, { email: creator.email }), 'createSessionToken', 'You are not allowed to create a session key for this person.')
  assertForbidden(await gql(server.url, admin.token, SESSION_TOKEN, { email: ROOT_EMAIL }), 'createSessionToken', 'You are not allowed to create a session key for this person.')
  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, SESSION_TOKEN, { email: plain.email }), 'createSessionToken', 'You are not allowed to create a session key')
  assertForbidden(await gql(server.url, LOGIN_TOKEN, SESSION_TOKEN, { email: plain.email }), 'createSessionToken', 'You are not allowed to create a session key')
})

test('transcript 41-45: signOut with a key without person, the root key, the login key, then a session', async () => {
  const key = await globalKey(server.url, [])
  const notPerson = await gql(server.url, key.token, SIGN_OUT)
  assert.deepEqual(notPerson.body, { data: { signOut: { ok: false, error: { code: 'NOT_A_PERSON', developerMessage: 'Only a person can sign out' }, errors: [{ code: 'NOT_A_PERSON' }] } } })
  const root = await gql(server.url, ROOT_TOKEN, 'mutation { signOut { ok error { code developerMessage } } }')
  assert.deepEqual(root.body, { data: { signOut: { ok: false, error: { code: 'NOT_POSSIBLE_SIGN_OUT_WITH_PERMANENT_API_KEY', developerMessage: 'Only session API keys can be used for person sign out.' } } } })
  const login = await gql(server.url, LOGIN_TOKEN, 'mutation { signOut { ok error { code developerMessage } } }')
  assert.deepEqual(login.body, { data: { signOut: { ok: false, error: { code: 'NOT_A_PERSON', developerMessage: 'Only a person can sign out' } } } })

  const alice = await personSession(server.url)
  const other = await signInToken(server.url, alice.email, alice.password)
  const out = await gql(server.url, alice.token, SIGN_OUT)
  assert.deepEqual(out.body, { data: { signOut: { ok: true, error: null, errors: [] } } })
  const after = await gql(server.url, alice.token, ME)
  assert.equal(after.status, 401)
  assert.match(after.body.errors[0].message, /^Authorization failure: API key was disabled at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  assert.equal((await gql(server.url, other, ME)).status, 200, 'signOut without all ends only the current session')
})

test('signOut(all: true) ends every key of the identity', async () => {
  const alice = await personSession(server.url)
  const second = await signInToken(server.url, alice.email, alice.password)
  const out = await gql(server.url, alice.token, SIGN_OUT, { all: true })
  assert.equal(out.body.data.signOut.ok, true)
  assert.equal((await gql(server.url, second, ME)).status, 401)
  assert.equal((await gql(server.url, alice.token, ME)).status, 401)
  const [audit] = await rows<{ event_data: { all: boolean, disabledKeys: number } }>(sql`select event_data from audit_event where type = 'sign_out' and person_id = ${alice.personId}`)
  assert.deepEqual(audit.event_data, { all: true, disabledKeys: 2 })
})
