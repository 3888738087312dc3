/**
 * Password sign-in throttling: masked errors (revealUserExists off by default), the per-e-mail
 * exponential backoff after the free attempts, the per-account lockout within NIST's bound, and
 * what ends a lockout.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { createPerson, uniqueEmail } from '../helpers/accounts.js'
import { loadConfig, ConfigError } from '../../src/config.js'

const CONFIGURE = 'mutation($config: ConfigInput!) { configure(config: $config) { ok error { code developerMessage } } }'
const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code developerMessage retryAfter } } }'

let server: TestServer
before(async () => {
  // One free attempt, then 1 minute doubling: deterministic without waiting.
  server = await startTestServer({ env: { LOGIN_BACKOFF_FREE_ATTEMPTS: '1', LOGIN_LOCKOUT_THRESHOLD: '4' } })
  await configure({ login: { baseBackoff: 'PT1M', maxBackoff: 'PT10M', attemptWindow: 'PT1H' } })
})
after(async () => { await server.close() })

async function configure(config: Record<string, unknown>, url = () => server.url) {
  const response = await gql(url(), ROOT_TOKEN, CONFIGURE, { config })
  assert.equal(response.body.data.configure.ok, true, JSON.stringify(response.body))
}
const signIn = async (email: string, password: string, url = server.url) => (await gql(url, LOGIN_TOKEN, SIGN_IN, { email, password })).body.data.signIn

test('by default an unknown e-mail, a wrong password and a disabled person all answer INVALID_CREDENTIALS', async () => {
  const local = await startTestServer()
  try {
    const alice = await createPerson(local.url)
    const invalid = { ok: false, error: { code: 'INVALID_CREDENTIALS', developerMessage: 'Invalid credentials', retryAfter: null } }
    assert.deepEqual(await signIn(alice.email, 'Wrong-Password-1', local.url), invalid)
    assert.deepEqual(await signIn(uniqueEmail('ghost'), 'Wrong-Password-1', local.url), invalid)
    await gql(local.url, ROOT_TOKEN, 'mutation($id: String!) { disablePerson(personId: $id) { ok } }', { id: alice.personId })
    assert.deepEqual(await signIn(alice.email, alice.password, local.url), invalid)
    // The audit log keeps the real reason.
    const codes = await local.runtime.database.rows<{ error_code: string }>(sql`select error_code from audit_event where type = 'login' and success = false order by created_at, seq`)
    assert.deepEqual(codes.map((row) => row.error_code), ['INVALID_PASSWORD', 'UNKNOWN_EMAIL', 'PERSON_DISABLED'])
    // revealUserExists on, revealLoginMethod off: only the method is hidden.
    assert.equal((await gql(local.url, ROOT_TOKEN, CONFIGURE, { config: { login: { revealUserExists: true, revealLoginMethod: false } } })).body.data.configure.ok, true)
    assert.equal((await signIn(uniqueEmail('ghost'), 'Wrong-Password-1', local.url)).error.code, 'UNKNOWN_EMAIL')
    const bob = await createPerson(local.url)
    assert.equal((await signIn(bob.email, 'Wrong-Password-1', local.url)).error.code, 'INVALID_CREDENTIALS')
  } finally {
    await local.close()
  }
})

test('backoff per e-mail: after the free failure the next attempt waits 1 minute; unknown e-mails alike', async () => {
  for (const known of [true, false]) {
    const email = known ? (await createPerson(server.url)).email : uniqueEmail('ghost')
    assert.equal((await signIn(email, 'Wrong-Password-1')).error.code, 'INVALID_CREDENTIALS')
    assert.equal((await signIn(email, 'Wrong-Password-1')).error.code, 'INVALID_CREDENTIALS', 'the free attempt')
    const waiting = await signIn(email, 'Wrong-Password-1')
    assert.equal(waiting.error.code, 'RATE_LIMIT_EXCEEDED')
    assert.ok(waiting.error.retryAfter > 55 && waiting.error.retryAfter <= 60, String(waiting.error.retryAfter))
    assert.equal(waiting.error.developerMessage, `Too many failed sign-in attempts. Retry after ${waiting.error.retryAfter}s.`)
  }
})

test('a success clears the backoff; another e-mail is not affected', async () => {
  const alice = await createPerson(server.url)
  await signIn(alice.email, 'Wrong-Password-1')
  assert.equal((await signIn(alice.email, alice.password)).ok, true)
  await signIn(alice.email, 'Wrong-Password-1')
  assert.equal((await signIn(alice.email, alice.password)).ok, true, 'one failure after a success is free again')
})

test('lockout: after LOGIN_LOCKOUT_THRESHOLD consecutive wrong passwords even the right one is refused; an admin password change ends it', async () => {
  // Backoff off, so only the lockout applies.
  const local = await startTestServer({ env: { LOGIN_LOCKOUT_THRESHOLD: '3', LOGIN_LOCKOUT_MINUTES: '30' } })
  try {
    assert.equal((await gql(local.url, ROOT_TOKEN, CONFIGURE, { config: { login: { baseBackoff: 'PT0S', maxBackoff: 'PT0S' } } })).body.data.configure.ok, true)
    const alice = await createPerson(local.url)
    for (let i = 0; i < 3; i++) assert.equal((await signIn(alice.email, `Wrong-Password-${i}`, local.url)).error.code, 'INVALID_CREDENTIALS')
    const [row] = await local.runtime.database.rows<{ failed_sign_ins: number }>(sql`select failed_sign_ins from person where id = ${alice.personId}`)
    assert.equal(row.failed_sign_ins, 3)
    const locked = await signIn(alice.email, alice.password, local.url)
    assert.equal(locked.error.code, 'RATE_LIMIT_EXCEEDED')
    assert.ok(locked.error.retryAfter > 1790 && locked.error.retryAfter <= 1800, String(locked.error.retryAfter))
    assert.match(locked.error.developerMessage, /^The account is locked after 3 failed sign-in attempts\. Retry after \d+s or reset the password\.$/)
    const changed = await gql(local.url, ROOT_TOKEN, 'mutation($id: String!) { changePassword(personId: $id, password: "Fresh-Password-1") { ok } }', { id: alice.personId })
    assert.equal(changed.body.data.changePassword.ok, true)
    assert.equal((await signIn(alice.email, 'Fresh-Password-1', local.url)).ok, true)
    const [after] = await local.runtime.database.rows<{ failed_sign_ins: number }>(sql`select failed_sign_ins from person where id = ${alice.personId}`)
    assert.equal(after.failed_sign_ins, 0)
  } finally {
    await local.close()
  }
})

test('the lockout threshold is within NIST SP 800-63B: at most 100', () => {
  assert.equal(loadConfig({}).abuse.lockoutThreshold, 100)
  assert.throws(() => loadConfig({ LOGIN_LOCKOUT_THRESHOLD: '101' }), (error) => error instanceof ConfigError && error.variable === 'LOGIN_LOCKOUT_THRESHOLD')
})

test('login settings are validated and read back', async () => {
  const bad = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { login: { baseBackoff: 'PT5M', maxBackoff: 'PT1M' } } })
  assert.equal(bad.body.data.configure.error.developerMessage, 'Invalid configuration: login.maxBackoff must not be shorter than login.baseBackoff')
  const read = await gql(server.url, ROOT_TOKEN, '{ configuration { login { baseBackoff maxBackoff attemptWindow revealUserExists revealLoginMethod defaultTokenExpiration maxTokenExpiration } } }')
  assert.deepEqual(read.body.data.configuration.login, {
    baseBackoff: 'PT1M', maxBackoff: 'PT10M', attemptWindow: 'PT1H', revealUserExists: false, revealLoginMethod: true,
    defaultTokenExpiration: 'PT30M', maxTokenExpiration: `PT${server.config.sessions.maxExpirationMinutes}M`,
  })
})
