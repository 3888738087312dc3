/** Captcha (2.2): siteverify through a loopback server speaking the providers' contract. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { createPerson, uniqueEmail } from '../helpers/accounts.js'
import { CAPTCHA_SECRET, startSiteverify, type SiteverifyServer } from '../helpers/captcha.js'

let server: TestServer
let siteverify: SiteverifyServer
before(async () => {
  siteverify = await startSiteverify()
  server = await startTestServer({ env: { CAPTCHA_VERIFY_URL_OVERRIDE: siteverify.url, PUBLIC_SIGN_UP: 'true' } })
})
after(async () => {
  await server.close()
  await siteverify.close()
})

const CONFIGURE = 'mutation($config: ConfigInput!) { configure(config: $config) { ok error { code developerMessage } } }'
const SIGN_UP = 'mutation($email: String!, $captchaToken: String) { signUp(email: $email, password: "Captcha-Pass-1", captchaToken: $captchaToken) { ok error { code developerMessage } } }'
const RESET = 'mutation($email: String!, $captchaToken: String) { createResetPasswordRequest(email: $email, captchaToken: $captchaToken) { ok error { code developerMessage } } }'
const INIT = 'mutation($email: String!, $captchaToken: String) { initSignInPasswordless(email: $email, captchaToken: $captchaToken) { ok error { code developerMessage } } }'

async function configure(config: Record<string, unknown>) {
  const response = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config })
  assert.equal(response.body.data.configure.ok, true, JSON.stringify(response.body))
}

test('a provider needs a secret; the secret is write-only, sealed at rest and "***" in the audit log', async () => {
  const missing = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { captcha: { provider: 'turnstile' } } })
  assert.deepEqual(missing.body.data.configure, { ok: false, error: { code: 'INVALID_CONFIG', developerMessage: 'Invalid configuration: captcha.secret is required when captcha.provider is set' } })
  await configure({ captcha: { provider: 'turnstile', secret: CAPTCHA_SECRET } })
  const read = await gql(server.url, ROOT_TOKEN, '{ configuration { captcha { provider threshold protect { signUp passwordReset passwordlessInit emailVerification } } } }')
  assert.deepEqual(read.body.data.configuration.captcha, { provider: 'turnstile', threshold: null, protect: { signUp: true, passwordReset: true, passwordlessInit: true, emailVerification: false } })
  const [stored] = await server.runtime.database.rows<{ value: unknown }>(sql`select value from config`)
  assert.doesNotMatch(JSON.stringify(stored.value), new RegExp(CAPTCHA_SECRET))
  const events = await server.runtime.database.rows<{ event_data: any }>(sql`select event_data from audit_event where type = 'tenant_config_change'`)
  assert.ok(events.some((event) => event.event_data.input.captcha?.secret === '***'))
  assert.doesNotMatch(JSON.stringify(events), new RegExp(CAPTCHA_SECRET))
})

test('public sign-up: no token, a refused token and an accepted one; the siteverify form', async () => {
  await configure({ captcha: { provider: 'turnstile', secret: CAPTCHA_SECRET } })
  const none = await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('captcha') })
  assert.deepEqual(none.body.data.signUp.error, { code: 'INVALID_CAPTCHA', developerMessage: 'Captcha verification failed: captcha token is missing' })
  const refused = await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('captcha'), captchaToken: 'robot' })
  assert.deepEqual(refused.body.data.signUp.error, { code: 'INVALID_CAPTCHA', developerMessage: 'Captcha verification failed: the captcha provider refused the token' })
  const before = siteverify.requests.length
  const accepted = await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('captcha'), captchaToken: 'human' })
  assert.deepEqual(accepted.body.data.signUp, { ok: true, error: null })
  const [sent] = siteverify.requests.slice(before)
  assert.deepEqual(sent, { secret: CAPTCHA_SECRET, response: 'human', remoteip: '127.0.0.1', contentType: 'application/x-www-form-urlencoded', method: 'POST' })
})

test('an administrator creating an account is not asked for a captcha', async () => {
  await configure({ captcha: { provider: 'turnstile', secret: CAPTCHA_SECRET } })
  assert.ok((await createPerson(server.url)).personId)
})

test('password reset and passwordless init are protected by default; protect flags switch a flow off', async () => {
  await configure({ captcha: { provider: 'hcaptcha', secret: CAPTCHA_SECRET, protect: { passwordReset: true } }, passwordless: { enabled: 'always' } })
  const alice = await createPerson(server.url)
  assert.equal((await gql(server.url, LOGIN_TOKEN, RESET, { email: alice.email })).body.data.createResetPasswordRequest.error.code, 'INVALID_CAPTCHA')
  assert.equal((await gql(server.url, LOGIN_TOKEN, RESET, { email: alice.email, captchaToken: 'human' })).body.data.createResetPasswordRequest.ok, true)
  assert.equal((await gql(server.url, LOGIN_TOKEN, INIT, { email: alice.email, captchaToken: 'nope' })).body.data.initSignInPasswordless.error.code, 'INVALID_CAPTCHA')
  assert.equal((await gql(server.url, LOGIN_TOKEN, INIT, { email: alice.email, captchaToken: 'human' })).body.data.initSignInPasswordless.ok, true)
  await configure({ captcha: { protect: { passwordReset: false } } })
  assert.equal((await gql(server.url, LOGIN_TOKEN, RESET, { email: alice.email })).body.data.createResetPasswordRequest.ok, true)
})

test('reCAPTCHA v3: the score must reach the threshold (0.5 unless configured)', async () => {
  await configure({ captcha: { provider: 'recaptchaV3', secret: CAPTCHA_SECRET, protect: { signUp: true } } })
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('v3'), captchaToken: 'bot-ish' })).body.data.signUp.error.developerMessage,
    'Captcha verification failed: the score is below 0.5')
  await configure({ captcha: { threshold: 0.05 } })
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('v3'), captchaToken: 'bot-ish' })).body.data.signUp.ok, true)
  const invalid = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { captcha: { threshold: 2 } } })
  assert.equal(invalid.body.data.configure.error.developerMessage, 'Invalid configuration: captcha.threshold must be between 0 and 1')
})

test('an unreachable provider refuses (fail closed); provider null switches the check off', async () => {
  const dead = await startTestServer({ env: { CAPTCHA_VERIFY_URL_OVERRIDE: 'http://127.0.0.1:9/siteverify', PUBLIC_SIGN_UP: 'true' } })
  try {
    assert.equal((await gql(dead.url, ROOT_TOKEN, CONFIGURE, { config: { captcha: { provider: 'turnstile', secret: CAPTCHA_SECRET } } })).body.data.configure.ok, true)
    assert.equal((await gql(dead.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('dead'), captchaToken: 'human' })).body.data.signUp.error.developerMessage,
      'Captcha verification failed: the captcha provider could not be reached')
    assert.equal((await gql(dead.url, ROOT_TOKEN, CONFIGURE, { config: { captcha: { provider: null } } })).body.data.configure.ok, true)
    assert.equal((await gql(dead.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('dead') })).body.data.signUp.ok, true)
  } finally {
    await dead.close()
  }
})
