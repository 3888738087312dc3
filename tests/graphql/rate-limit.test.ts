/** Per-IP sliding-window limits (2.2 rateLimits): each limit, RATE_LIMIT_EXCEEDED with retryAfter, limit 0 = off. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { createPerson, uniqueEmail } from '../helpers/accounts.js'

const CONFIGURE = 'mutation($config: ConfigInput!) { configure(config: $config) { ok error { code developerMessage } } }'
const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code developerMessage retryAfter } } }'
const SIGN_UP = 'mutation($email: String!) { signUp(email: $email, password: "Limited-Pass-1") { ok error { code developerMessage } } }'
const RESET = 'mutation($email: String!) { createResetPasswordRequest(email: $email) { ok error { code developerMessage } } }'
const INIT = 'mutation($email: String!) { initSignInPasswordless(email: $email) { ok error { code developerMessage } } }'
const PASSWORDLESS = 'mutation { signInPasswordless(requestId: "00000000-0000-0000-0000-000000000000", validationType: token, token: "x") { ok error { code } } }'

let server: TestServer
before(async () => { server = await startTestServer({ env: { PUBLIC_SIGN_UP: 'true' } }) })
after(async () => { await server.close() })

async function configure(config: Record<string, unknown>, url = server.url) {
  const response = await gql(url, ROOT_TOKEN, CONFIGURE, { config })
  assert.equal(response.body.data.configure.ok, true, JSON.stringify(response.body))
}

test('limits are off by default: many sign-ins from one address are answered normally', async () => {
  const alice = await createPerson(server.url)
  for (let i = 0; i < 12; i++) {
    assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })).body.data.signIn.ok, true)
  }
})

test('loginPerIp: the attempt over the limit is RATE_LIMIT_EXCEEDED with retryAfter; signInPasswordless shares it', async () => {
  const local = await startTestServer()
  try {
    await configure({ rateLimits: { loginPerIp: { limit: 3, window: 'PT10M' } } }, local.url)
    const alice = await createPerson(local.url)
    for (let i = 0; i < 3; i++) assert.equal((await gql(local.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })).body.data.signIn.ok, true)
    const refused = (await gql(local.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })).body.data.signIn
    assert.equal(refused.ok, false)
    assert.equal(refused.error.code, 'RATE_LIMIT_EXCEEDED')
    assert.ok(refused.error.retryAfter > 590 && refused.error.retryAfter <= 600, String(refused.error.retryAfter))
    assert.equal(refused.error.developerMessage, `Too many attempts from this address. Retry after ${refused.error.retryAfter}s.`)
    // signInPasswordless has no RATE_LIMIT_EXCEEDED code in the SDL: a GraphQL error, field null.
    const passwordless = await gql(local.url, LOGIN_TOKEN, PASSWORDLESS)
    assert.equal(passwordless.body.data.signInPasswordless, null)
    assert.match(passwordless.body.errors[0].message, /^Too many attempts from this address\. Retry after \d+s\. \(RATE_LIMIT_EXCEEDED\)$/)
  } finally {
    await local.close()
  }
})

test('signUpPerIp guards the public sign-up (the login token)', async () => {
  await configure({ rateLimits: { signUpPerIp: { limit: 2, window: 'PT1H' } } })
  for (let i = 0; i < 2; i++) assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('public') })).body.data.signUp.ok, true)
  const refused = await gql(server.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail('public') })
  assert.equal(refused.body.data.signUp.error.code, 'RATE_LIMIT_EXCEEDED')
  assert.match(refused.body.data.signUp.error.developerMessage, /^Too many attempts from this address\. Retry after (359\d|3600)s\.$/)
  // An administrator's sign-ups are not public: not limited.
  assert.ok((await createPerson(server.url)).personId)
})

test('passwordResetPerIp and passwordlessInitPerIp; unknown e-mails count too', async () => {
  await configure({ rateLimits: { passwordResetPerIp: { limit: 1, window: 'PT5M' }, passwordlessInitPerIp: { limit: 1, window: 'PT5M' } }, passwordless: { enabled: 'always' } })
  assert.equal((await gql(server.url, LOGIN_TOKEN, RESET, { email: 'ghost@example.com' })).body.data.createResetPasswordRequest.ok, true)
  const reset = await gql(server.url, LOGIN_TOKEN, RESET, { email: 'ghost@example.com' })
  assert.equal(reset.body.data.createResetPasswordRequest.error.code, 'RATE_LIMIT_EXCEEDED')
  const alice = await createPerson(server.url)
  assert.equal((await gql(server.url, LOGIN_TOKEN, INIT, { email: alice.email })).body.data.initSignInPasswordless.ok, true)
  assert.equal((await gql(server.url, LOGIN_TOKEN, INIT, { email: alice.email })).body.data.initSignInPasswordless.error.code, 'RATE_LIMIT_EXCEEDED')
})

test('rate-limit windows are validated (INVALID_CONFIG naming the field)', async () => {
  for (const [loginPerIp, message] of [
    [{ limit: -1 }, 'rateLimits.loginPerIp.limit must be an integer between 0 and 1000000'],
    [{ window: 'PT0S' }, 'rateLimits.loginPerIp.window must be an interval between PT1S and P1D'],
    [{ limit: null }, 'rateLimits.loginPerIp.limit cannot be null'],
  ] as const) {
    const response = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { rateLimits: { loginPerIp } } })
    assert.deepEqual(response.body.data.configure, { ok: false, error: { code: 'INVALID_CONFIG', developerMessage: `Invalid configuration: ${message}` } })
  }
  const read = await gql(server.url, ROOT_TOKEN, '{ configuration { rateLimits { loginPerIp { limit window } emailOtpPerPerson { limit window } } } }')
  assert.deepEqual(read.body.data.configuration.rateLimits, { loginPerIp: { limit: 0, window: 'PT15M' }, emailOtpPerPerson: { limit: 5, window: 'PT15M' } })
})

test('emailVerificationPerIp guards requestEmailVerification', async () => {
  await configure({ rateLimits: { emailVerificationPerIp: { limit: 1, window: 'PT5M' } } })
  const REQUEST = 'mutation($email: String!) { requestEmailVerification(email: $email) { ok error { code developerMessage } } }'
  const alice = await createPerson(server.url)
  assert.equal((await gql(server.url, LOGIN_TOKEN, REQUEST, { email: alice.email })).body.data.requestEmailVerification.ok, true)
  const refused = await gql(server.url, LOGIN_TOKEN, REQUEST, { email: alice.email })
  assert.equal(refused.body.data.requestEmailVerification.error.code, 'RATE_LIMIT_EXCEEDED')
})
