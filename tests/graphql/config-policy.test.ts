/** Config 2.1/2.2 through configure: the password policy with WeakPasswordReason, session lifetimes, passwordless Interval. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { createPerson, personSession, signInToken, uniqueEmail } from '../helpers/accounts.js'

const CONFIGURE = 'mutation($config: ConfigInput!) { configure(config: $config) { ok error { code developerMessage } } }'
const SIGN_UP = 'mutation($email: String!, $password: String!) { signUp(email: $email, password: $password) { ok error { code developerMessage weakPasswordReasons } } }'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server.close() })

async function configure(config: Record<string, unknown>) {
  const response = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config })
  assert.equal(response.body.data.configure.ok, true, JSON.stringify(response.body))
}
const reasons = async (password: string) => (await gql(server.url, ROOT_TOKEN, SIGN_UP, { email: uniqueEmail(), password })).body.data.signUp.error

test('defaults: the whole 2.2 Config type reads back, env values where nothing is configured', async () => {
  const response = await gql(server.url, ROOT_TOKEN, `{ configuration {
    signup { requireEmailVerification } emailChange { requireVerification }
    passwordless { enabled url expiration expirationMinutes }
    password { minLength requireUppercase requireLowercase requireDigit requireSpecial pattern checkBlacklist checkHibp }
    login { revealUserExists revealLoginMethod mfaGraceDuration anomalyDetection { enabled historySize } }
    captcha { provider threshold } rateLimits { signUpPerIp { limit window } } } }`)
  assert.deepEqual(response.body.data.configuration, {
    signup: { requireEmailVerification: false }, emailChange: { requireVerification: false },
    passwordless: { enabled: 'never', url: null, expiration: 'PT5M', expirationMinutes: 5 },
    password: { minLength: 8, requireUppercase: 0, requireLowercase: 0, requireDigit: 0, requireSpecial: 0, pattern: null, checkBlacklist: false, checkHibp: false },
    login: { revealUserExists: false, revealLoginMethod: true, mfaGraceDuration: 'PT0S', anomalyDetection: { enabled: false, historySize: 10 } },
    captcha: { provider: null, threshold: null }, rateLimits: { signUpPerIp: { limit: 0, window: 'PT15M' } },
  })
})

test('passwordless: expiration as an Interval and the 2.0.8 expirationMinutes are one setting', async () => {
  await configure({ passwordless: { expiration: 'PT90M' } })
  const read = async () => (await gql(server.url, ROOT_TOKEN, '{ configuration { passwordless { expiration expirationMinutes } } }')).body.data.configuration.passwordless
  assert.deepEqual(await read(), { expiration: 'PT90M', expirationMinutes: 90 })
  await configure({ passwordless: { expirationMinutes: 7 } })
  assert.deepEqual(await read(), { expiration: 'PT7M', expirationMinutes: 7 })
  const bad = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { expiration: 'P30D' } } })
  assert.equal(bad.body.data.configure.error.developerMessage, 'Invalid configuration: passwordless.expiration must be an interval between PT1M and P7D')
  assert.equal((await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { expiration: 'soon' } } })).status, 400)
})

test('the password policy: each WeakPasswordReason on signUp', async () => {
  await configure({ password: { minLength: 10, requireUppercase: 1, requireLowercase: 1, requireDigit: 2, requireSpecial: 1, pattern: '^[^ ]*$', checkBlacklist: true } })
  assert.deepEqual(await reasons('Ab1!'), { code: 'TOO_WEAK', developerMessage: 'Password is too weak. Minimum length is 10', weakPasswordReasons: ['TOO_SHORT', 'MISSING_DIGIT'] })
  assert.deepEqual((await reasons('abcdefgh12!x')).weakPasswordReasons, ['MISSING_UPPERCASE'])
  assert.deepEqual((await reasons('ABCDEFGH12!X')).weakPasswordReasons, ['MISSING_LOWERCASE'])
  assert.deepEqual((await reasons('Abcdefgh12xy')).weakPasswordReasons, ['MISSING_SPECIAL'])
  assert.deepEqual(await reasons('Abcdefg 12!x'), { code: 'TOO_WEAK', developerMessage: 'Password is too weak: INVALID_PATTERN', weakPasswordReasons: ['INVALID_PATTERN'] })
  assert.equal((await gql(server.url, ROOT_TOKEN, SIGN_UP, { email: uniqueEmail(), password: 'Unusual-Words-42' })).body.data.signUp.ok, true)
  await configure({ password: { minLength: 8, requireUppercase: 0, requireLowercase: 0, requireDigit: 0, requireSpecial: 0, pattern: null } })
  assert.deepEqual((await reasons('Password123')).weakPasswordReasons, ['BLACKLISTED'])
  assert.deepEqual((await reasons('P@ssw0rd')).weakPasswordReasons, ['BLACKLISTED'])
  await configure({ password: { checkBlacklist: false } })
})

test('weakPasswordReasons on changePassword, changeMyPassword and resetPassword too', async () => {
  await configure({ password: { requireDigit: 1 } })
  const alice = await personSession(server.url)
  const change = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { changePassword(personId: $id, password: "no-digits-here") { ok error { code weakPasswordReasons } } }', { id: alice.personId })
  assert.deepEqual(change.body.data.changePassword.error, { code: 'TOO_WEAK', weakPasswordReasons: ['MISSING_DIGIT'] })
  const mine = await gql(server.url, alice.token, `mutation($current: String!) { changeMyPassword(currentPassword: $current, newPassword: "no-digits-here") { ok error { code weakPasswordReasons } } }`, { current: alice.password })
  assert.deepEqual(mine.body.data.changeMyPassword.error, { code: 'TOO_WEAK', weakPasswordReasons: ['MISSING_DIGIT'] })
  const reset = await gql(server.url, LOGIN_TOKEN, 'mutation { resetPassword(token: "x", password: "no-digits-here") { ok error { code weakPasswordReasons } } }')
  assert.deepEqual(reset.body.data.resetPassword.error, { code: 'PASSWORD_TOO_WEAK', weakPasswordReasons: ['MISSING_DIGIT'] })
  await configure({ password: { requireDigit: 0 } })
})

test('the environment\'s minimum length is the floor; an unusable pattern is refused', async () => {
  for (const [password, message] of [
    [{ minLength: 4 }, 'password.minLength must be an integer between 8 and 128'],
    [{ pattern: '([a-z' }, 'password.pattern must be a valid regular expression'],
    [{ requireDigit: -1 }, 'password.requireDigit must be an integer between 0 and 64'],
    [{ checkBlacklist: null }, 'password.checkBlacklist cannot be null'],
  ] as const) {
    const response = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { password } })
    assert.deepEqual(response.body.data.configure.error, { code: 'INVALID_CONFIG', developerMessage: `Invalid configuration: ${message}` })
  }
})

test('session lifetimes from login.defaultTokenExpiration / maxTokenExpiration, for signIn and createSessionToken', async () => {
  const alice = await createPerson(server.url)
  const lifetime = async (expiration?: number) => {
    const token = await signInToken(server.url, alice.email, alice.password, expiration)
    const [key] = await server.runtime.database.rows<{ expires_at: string, created_at: string }>(
      sql`select expires_at, created_at from api_key where token_hash = ${createHash('sha256').update(token).digest('hex')}`)
    return Math.round((new Date(key.expires_at).getTime() - new Date(key.created_at).getTime()) / 60_000)
  }
  // createSessionToken (as IdP and passwordless sign-in) opens its session on the same terms.
  const issuedLifetime = async (expiration?: number) => {
    const issued = await gql(server.url, ROOT_TOKEN, 'mutation($email: String!, $expiration: Int) { createSessionToken(email: $email, expiration: $expiration) { ok result { token } } }',
      { email: alice.email, expiration })
    const token = issued.body.data.createSessionToken.result.token as string
    const [key] = await server.runtime.database.rows<{ expires_at: string, created_at: string }>(
      sql`select expires_at, created_at from api_key where token_hash = ${createHash('sha256').update(token).digest('hex')}`)
    return Math.round((new Date(key.expires_at).getTime() - new Date(key.created_at).getTime()) / 60_000)
  }
  await configure({ login: { defaultTokenExpiration: 'PT2H', maxTokenExpiration: 'P1D' } })
  assert.equal(await lifetime(), 120)
  assert.equal(await lifetime(5000), 24 * 60)
  assert.equal(await lifetime(15), 15)
  assert.equal(await issuedLifetime(), 120)
  assert.equal(await issuedLifetime(5000), 24 * 60)
  assert.equal(await issuedLifetime(15), 15)
  const bad = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { login: { defaultTokenExpiration: 'P2D' } } })
  assert.equal(bad.body.data.configure.error.developerMessage, 'Invalid configuration: login.defaultTokenExpiration must not be longer than login.maxTokenExpiration')
  await configure({ login: { defaultTokenExpiration: null, maxTokenExpiration: null } })
  assert.equal(await lifetime(), 30)
  assert.equal(await issuedLifetime(), 30)
})
