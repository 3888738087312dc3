/** signUp (transcript §C): access, Contember's error order and messages, name, roles, bcrypt imports. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, globalKey, personSession, signInToken, uniqueEmail } from '../helpers/accounts.js'

let server: TestServer
before(async () => {
  server = await startTestServer()
  // These tests replay Contember 2.0.8's answers, which reveal unknown e-mails (2.2's revealUserExists, off by default here).
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation { configure(config: { login: { revealUserExists: true } }) { ok } }')).body.data.configure.ok, true)
})
after(async () => { await server.close() })

const SIGN_UP = 'mutation($email: String!, $password: String) { signUp(email: $email, password: $password) { ok error { code developerMessage } errors { code } result { person { id email identity { id roles } } } } }'
const SIGN_UP_FULL = 'mutation($email: String!, $password: String, $passwordHash: String, $roles: [String!], $name: String) { signUp(email: $email, password: $password, passwordHash: $passwordHash, roles: $roles, name: $name) { ok error { code developerMessage } result { person { id email name identity { id roles } } } } }'

test('transcript 13: the login token may not sign up', async () => {
  const response = await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail(), password: 'AlicePassword123' })
  assertForbidden(response, 'signUp', 'You are not allowed to sign up')
  assert.deepEqual(response.body.errors[0].locations, [{ line: 1, column: 48 }])
})

test('transcript 14-17: success, duplicate, invalid e-mail, weak password', async () => {
  const email = uniqueEmail('alice')
  const created = await gql(server.url, ROOT_TOKEN, SIGN_UP, { email, password: 'AlicePassword123' })
  assert.equal(created.status, 200)
  const person = created.body.data.signUp.result.person
  assert.deepEqual(created.body, { data: { signUp: { ok: true, error: null, errors: [], result: { person: { id: person.id, email, identity: { id: person.identity.id, roles: ['person'] } } } } } })

  const duplicate = await gql(server.url, ROOT_TOKEN, SIGN_UP, { email, password: 'AlicePassword123' })
  assert.deepEqual(duplicate.body, { data: { signUp: { ok: false, error: { code: 'EMAIL_ALREADY_EXISTS', developerMessage: `User with email ${email} already exists` }, errors: [{ code: 'EMAIL_ALREADY_EXISTS' }], result: null } } })

  const invalid = await gql(server.url, ROOT_TOKEN, SIGN_UP, { email: 'not-an-email', password: 'AlicePassword123' })
  assert.deepEqual(invalid.body, { data: { signUp: { ok: false, error: { code: 'INVALID_EMAIL_FORMAT', developerMessage: 'E-mail address is not in a valid format' }, errors: [{ code: 'INVALID_EMAIL_FORMAT' }], result: null } } })

  const weak = await gql(server.url, ROOT_TOKEN, SIGN_UP, { email: uniqueEmail('weak'), password: 'abc' })
  assert.deepEqual(weak.body, { data: { signUp: { ok: false, error: { code: 'TOO_WEAK', developerMessage: 'Password is too weak. Minimum length is 8' }, errors: [{ code: 'TOO_WEAK' }], result: null } } })
})

test('invalid e-mail is reported before a duplicate, a duplicate before a weak password', async () => {
  const email = uniqueEmail()
  await gql(server.url, ROOT_TOKEN, SIGN_UP, { email, password: 'AlicePassword123' })
  const both = await gql(server.url, ROOT_TOKEN, SIGN_UP, { email: email.toUpperCase(), password: 'abc' })
  assert.equal(both.body.data.signUp.error.code, 'EMAIL_ALREADY_EXISTS')
  const invalidAndWeak = await gql(server.url, ROOT_TOKEN, SIGN_UP, { email: 'nope', password: 'abc' })
  assert.equal(invalidAndWeak.body.data.signUp.error.code, 'INVALID_EMAIL_FORMAT')
})

test('the e-mail is stored normalized; the name is honoured (Contember ignored it), else the local part', async () => {
  const raw = `  Mixed.Case.${Date.now()}@Example.COM `
  const named = await gql(server.url, ROOT_TOKEN, SIGN_UP_FULL, { email: raw, password: 'AlicePassword123', name: 'Alice Liddell' })
  assert.equal(named.body.data.signUp.ok, true, JSON.stringify(named.body))
  assert.equal(named.body.data.signUp.result.person.email, raw.replace(/\s+/g, '').toLowerCase())
  assert.equal(named.body.data.signUp.result.person.name, 'Alice Liddell')
  const unnamed = await gql(server.url, ROOT_TOKEN, SIGN_UP_FULL, { email: `Manager.${Date.now()}@Example.com`, password: 'AlicePassword123' })
  assert.match(unnamed.body.data.signUp.result.person.name, /^Manager\.\d+$/)
})

test('roles: root may grant any (not validated), project_admin only login/project_admin/entrypoint_deployer', async () => {
  const custom = await gql(server.url, ROOT_TOKEN, SIGN_UP_FULL, { email: uniqueEmail(), password: 'AlicePassword123', roles: ['foo', 'project_creator'] })
  assert.deepEqual(custom.body.data.signUp.result.person.identity.roles, ['foo', 'project_creator', 'person'])

  const admin = await personSession(server.url, ['project_admin'])
  const allowed = await gql(server.url, admin.token, SIGN_UP_FULL, { email: uniqueEmail(), password: 'AlicePassword123', roles: ['entrypoint_deployer'] })
  assert.equal(allowed.body.data.signUp.ok, true)
  assert.equal(allowed.body.data.signUp.result.person.identity.roles, null, 'a project_admin does not see other identities\' roles')
  assertForbidden(await gql(server.url, admin.token, SIGN_UP_FULL, { email: uniqueEmail(), password: 'AlicePassword123', roles: ['project_creator'] }),
    'signUp', 'You are not allowed to sign up')

  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, SIGN_UP, { email: uniqueEmail(), password: 'AlicePassword123' }), 'signUp', 'You are not allowed to sign up')
  const creator = await globalKey(server.url, ['project_creator'])
  assertForbidden(await gql(server.url, creator.token, SIGN_UP, { email: uniqueEmail(), password: 'AlicePassword123' }), 'signUp', 'You are not allowed to sign up')
})

test('passwordHash accepts $2a$, $2b$ and $2y$ bcrypt hashes (Contember took only $2b$); the person signs in with it', async () => {
  for (const prefix of ['$2a$', '$2b$', '$2y$']) {
    const hash = prefix + bcrypt.hashSync('Imported-Password-1', 4).slice(4)
    const email = uniqueEmail('imported')
    const response = await gql(server.url, ROOT_TOKEN, SIGN_UP_FULL, { email, passwordHash: hash })
    assert.equal(response.body.data.signUp.ok, true, `${prefix}: ${JSON.stringify(response.body)}`)
    assert.match(await signInToken(server.url, email, 'Imported-Password-1'), /^[0-9a-f]{40}$/)
  }
  const bad = await gql(server.url, ROOT_TOKEN, SIGN_UP_FULL, { email: uniqueEmail(), passwordHash: '$argon2id$v=19$m=1024,t=1,p=1$abc$def' })
  assert.equal(bad.status, 200)
  assert.equal(bad.body.data.signUp, null)
  assert.equal(bad.body.errors[0].extensions.code, 'UserInputError')
  assert.match(bad.body.errors[0].message, /^Invalid password hash/)
})

test('without password the person exists but cannot sign in (NO_PASSWORD_SET)', async () => {
  const email = uniqueEmail()
  const response = await gql(server.url, ROOT_TOKEN, SIGN_UP_FULL, { email })
  assert.equal(response.body.data.signUp.ok, true)
  const signIn = await gql(server.url, LOGIN_TOKEN, 'mutation($email: String!) { signIn(email: $email, password: "whatever-123") { ok error { code developerMessage } } }', { email })
  assert.deepEqual(signIn.body.data.signIn, { ok: false, error: { code: 'NO_PASSWORD_SET', developerMessage: 'No password set' } })
})

test('passwords are stored as argon2id, and the sign-up is audited without the password', async () => {
  const email = uniqueEmail('audited')
  const response = await gql(server.url, ROOT_TOKEN, SIGN_UP, { email, password: 'AlicePassword123' })
  const personId = response.body.data.signUp.result.person.id
  const [stored] = await server.runtime.database.rows<{ password_hash: string }>(sql`select password_hash from person where id = ${personId}`)
  assert.match(stored.password_hash, /^\$argon2id\$/)
  const events = await server.runtime.database.rows<{ type: string, event_data: unknown }>(sql`select type, event_data from audit_event where target_person_id = ${personId}`)
  assert.equal(events.length, 1)
  assert.equal(events[0].type, 'sign_up')
  assert.doesNotMatch(JSON.stringify(events[0].event_data), /AlicePassword123/)
})

test('two concurrent sign-ups with one e-mail: one succeeds, the other is EMAIL_ALREADY_EXISTS', async () => {
  const email = uniqueEmail('race')
  const results = await Promise.all([1, 2, 3].map(() => gql(server.url, ROOT_TOKEN, SIGN_UP, { email, password: 'AlicePassword123' })))
  const codes = results.map((r) => r.body.data.signUp.ok ? 'ok' : r.body.data.signUp.error.code).sort()
  assert.deepEqual(codes, ['EMAIL_ALREADY_EXISTS', 'EMAIL_ALREADY_EXISTS', 'ok'])
})
