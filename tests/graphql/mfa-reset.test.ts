/**
 * resetPersonMfa (2.2) over HTTP: clears TOTP, e-mail OTP and backup codes of a person, audited
 * `mfa_reset`; PERSON_NOT_FOUND; only super_admin (person:resetMfa) may call it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { authenticator } from 'otplib'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { assertForbidden, globalKey, personSession } from '../helpers/accounts.js'

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

const RESET = 'mutation($personId: String!) { resetPersonMfa(personId: $personId) { ok error { code developerMessage } } }'
const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code } } }'
const PERSON = '{ me { person { otpEnabled emailOtpEnabled } } }'

async function awayFromStepEdge(): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000)
  if (left < 4_000) await new Promise((resolve) => setTimeout(resolve, left + 250))
}

/** A person with both TOTP and e-mail OTP on, and backup codes. */
async function fullyEnrolled() {
  const caller = await personSession(server.url)
  const secret = (await gql(server.url, caller.token, 'mutation { prepareOtp { result { otpSecret } } }')).body.data.prepareOtp.result.otpSecret
  await awayFromStepEdge()
  const confirmed = await gql(server.url, caller.token, 'mutation($t: String!) { confirmOtp(otpToken: $t) { ok } }', { t: authenticator.generate(secret) })
  assert.equal(confirmed.body.data.confirmOtp.ok, true)
  assert.equal((await gql(server.url, caller.token, 'mutation { initEmailOtp { ok } }')).body.data.initEmailOtp.ok, true)
  const [mail] = await sink.waitForMailTo(caller.email)
  const code = /<code>(\d{6})<\/code>/.exec(mail.html)![1]
  assert.equal((await gql(server.url, caller.token, 'mutation($t: String!) { confirmEmailOtp(otpToken: $t) { ok } }', { t: code })).body.data.confirmEmailOtp.ok, true)
  return caller
}

test('resetPersonMfa clears TOTP, e-mail OTP and backup codes; the person signs in with the password alone; audited mfa_reset', async () => {
  const alice = await fullyEnrolled()
  assert.deepEqual((await gql(server.url, alice.token, PERSON)).body.data.me.person, { otpEnabled: true, emailOtpEnabled: true })
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })).body.data.signIn.error.code, 'OTP_REQUIRED')

  assert.deepEqual((await gql(server.url, ROOT_TOKEN, RESET, { personId: alice.personId })).body.data.resetPersonMfa, { ok: true, error: null })
  assert.deepEqual((await gql(server.url, alice.token, PERSON)).body.data.me.person, { otpEnabled: false, emailOtpEnabled: false }, 'sessions stay')
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })).body.data.signIn.ok, true)
  const left = await server.runtime.database.rows<{ codes: number, secret: string | null }>(sql`select
    (select count(*)::int from person_backup_code where person_id = ${alice.personId}) as codes,
    (select otp_uri_encrypted from person_mfa where person_id = ${alice.personId}) as secret`)
  assert.deepEqual(left[0], { codes: 0, secret: null })
  const [audit] = await server.runtime.database.rows<{ target_person_id: string, event_data: Record<string, unknown> }>(
    sql`select target_person_id, event_data from audit_event where type = 'mfa_reset' and target_person_id = ${alice.personId}`)
  assert.deepEqual(audit.event_data, { totp: true, emailOtp: true, removedBackupCodes: 10 })

  // Resetting a person without MFA is fine (idempotent).
  assert.equal((await gql(server.url, ROOT_TOKEN, RESET, { personId: alice.personId })).body.data.resetPersonMfa.ok, true)
})

test('resetPersonMfa: PERSON_NOT_FOUND for an unknown or malformed id', async () => {
  for (const personId of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, RESET, { personId })).body.data.resetPersonMfa, {
      ok: false, error: { code: 'PERSON_NOT_FOUND', developerMessage: `Person <${personId}> was not found` },
    })
  }
})

test('resetPersonMfa is refused to the login token, a person, a project_admin; a super_admin key may', async () => {
  const target = await personSession(server.url)
  const message = 'You are not allowed to reset MFA of a person'
  assertForbidden(await gql(server.url, LOGIN_TOKEN, RESET, { personId: target.personId }), 'resetPersonMfa', message)
  assertForbidden(await gql(server.url, target.token, RESET, { personId: target.personId }), 'resetPersonMfa', message)
  const projectAdmin = await globalKey(server.url, ['project_admin'])
  assertForbidden(await gql(server.url, projectAdmin.token, RESET, { personId: target.personId }), 'resetPersonMfa', message)
  const superAdmin = await globalKey(server.url, ['super_admin'])
  assert.equal((await gql(server.url, superAdmin.token, RESET, { personId: target.personId })).body.data.resetPersonMfa.ok, true)
})
