/**
 * The anti-abuse gates on the 2.2 mail flows of this module, configured with `configure`:
 * requestEmailVerification behind rateLimits.emailVerificationPerIp (RATE_LIMIT_EXCEEDED) and
 * captcha.protect.emailVerification (INVALID_CAPTCHA, against a loopback siteverify server);
 * e-mail OTP mails behind rateLimits.emailOtpPerPerson (initEmailOtp RATE_LIMITED, sign-in
 * silently mails nothing more).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { CAPTCHA_SECRET, startSiteverify, type SiteverifyServer } from '../helpers/captcha.js'
import { personSession } from '../helpers/accounts.js'

let server: TestServer
let sink: SmtpSink
let siteverify: SiteverifyServer
before(async () => {
  sink = await startSmtpSink()
  siteverify = await startSiteverify()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl, MAIL_FROM: 'gateway@example.com', CAPTCHA_VERIFY_URL_OVERRIDE: siteverify.url } })
})
after(async () => {
  await server.close()
  await sink.close()
  await siteverify.close()
})

const REQUEST = 'mutation($email: String!, $captchaToken: String) { requestEmailVerification(email: $email, captchaToken: $captchaToken) { ok error { code developerMessage } } }'

async function configure(config: Record<string, unknown>) {
  const response = await gql(server.url, ROOT_TOKEN, 'mutation($config: ConfigInput!) { configure(config: $config) { ok error { code developerMessage } } }', { config })
  assert.equal(response.body.data.configure.ok, true, response.text)
}

const request = async (email: string, captchaToken?: string) =>
  (await gql(server.url, LOGIN_TOKEN, REQUEST, { email, captchaToken })).body.data.requestEmailVerification

test('captcha.protect.emailVerification: a missing or refused token is INVALID_CAPTCHA and mails nothing; a good one passes', async () => {
  const alice = await personSession(server.url)
  await configure({ captcha: { provider: 'turnstile', secret: CAPTCHA_SECRET, protect: { emailVerification: true } } })
  try {
    assert.deepEqual(await request(alice.email), { ok: false, error: { code: 'INVALID_CAPTCHA', developerMessage: 'Captcha verification failed: captcha token is missing' } })
    assert.equal((await request(alice.email, 'robot')).error.code, 'INVALID_CAPTCHA')
    assert.deepEqual(await request(alice.email, 'human'), { ok: true, error: null })
    const mails = await sink.waitForMailTo(alice.email)
    assert.equal(mails.length, 1)
    assert.equal(siteverify.requests.at(-1)?.response, 'human')
  } finally {
    await configure({ captcha: { provider: null } })
  }
})

test('rateLimits.emailVerificationPerIp: over the limit is RATE_LIMIT_EXCEEDED, known or unknown address alike', async () => {
  const bob = await personSession(server.url)
  await configure({ rateLimits: { emailVerificationPerIp: { limit: 2, window: 'PT1H' } } })
  try {
    assert.equal((await request(bob.email)).ok, true)
    assert.equal((await request('nobody@example.com')).ok, true)
    for (const email of [bob.email, 'nobody@example.com']) {
      const refused = await request(email)
      assert.equal(refused.ok, false)
      assert.equal(refused.error.code, 'RATE_LIMIT_EXCEEDED')
      assert.match(refused.error.developerMessage, /^Too many attempts from this address\. Retry after \d+s\.$/)
    }
  } finally {
    await configure({ rateLimits: { emailVerificationPerIp: { limit: 0 } } })
  }
})

test('rateLimits.emailOtpPerPerson: initEmailOtp beyond the budget is RATE_LIMITED; sign-in then mails no code but still asks for one', async () => {
  await configure({ rateLimits: { emailOtpPerPerson: { limit: 1, window: 'PT1H' } } })
  const carol = await personSession(server.url)
  assert.equal((await gql(server.url, carol.token, 'mutation { initEmailOtp { ok } }')).body.data.initEmailOtp.ok, true)
  const [mail] = await sink.waitForMailTo(carol.email)
  const code = /<code>(\d{6})<\/code>/.exec(mail.html)![1]
  assert.equal((await gql(server.url, carol.token, 'mutation($t: String!) { confirmEmailOtp(otpToken: $t) { ok } }', { t: code })).body.data.confirmEmailOtp.ok, true)

  assert.deepEqual((await gql(server.url, carol.token, 'mutation { initEmailOtp { ok error { code developerMessage } } }')).body.data.initEmailOtp,
    { ok: false, error: { code: 'RATE_LIMITED', developerMessage: 'Too many codes were sent to this person; try again later.' } })
  const signIn = await gql(server.url, LOGIN_TOKEN, 'mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { ok error { code } } }', { e: carol.email, p: carol.password })
  assert.equal(signIn.body.data.signIn.error.code, 'OTP_REQUIRED')
  // Another person's mail after carol's sign-in shows the outbox drained: carol got no second code.
  const marker = await personSession(server.url)
  await request(marker.email)
  await sink.waitForMailTo(marker.email)
  assert.equal(sink.mailsTo(carol.email).length, 1)
})
