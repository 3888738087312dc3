/**
 * E-mail OTP (2.2) over HTTP with codes read from the real SMTP sink: initEmailOtp,
 * confirmEmailOtp, disableEmailOtp and their error codes; the sign-in effect (signIn without a
 * code mails one and answers OTP_REQUIRED, the mailed code signs in once, wrong tries are
 * bounded); Person.emailOtpEnabled; hashes only at rest; permission denials.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { assertForbidden, globalKey, personSession } from '../helpers/accounts.js'
import { identity, person, apiKey } from '../../src/db/schema.js'
import { generateToken, sha256Hex } from '../../src/domain/crypto/tokens.js'

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

const INIT = 'mutation { initEmailOtp { ok error { code developerMessage } } }'
const CONFIRM = 'mutation($otpToken: String!) { confirmEmailOtp(otpToken: $otpToken) { ok error { code developerMessage } result { backupCodes } } }'
const DISABLE = 'mutation { disableEmailOtp { ok error { code developerMessage } } }'
const SIGN_IN = `mutation($email: String!, $password: String!, $otpToken: String, $backupCode: String) {
  signIn(email: $email, password: $password, otpToken: $otpToken, backupCode: $backupCode) { ok error { code developerMessage } result { token } } }`
const ME = '{ me { person { otpEnabled emailOtpEnabled } } }'

/** The code of the `count`-th mail to the address (waits for it). */
async function mailedCode(address: string, count: number): Promise<string> {
  const mails = await sink.waitForMailTo(address, count)
  const mail = mails[count - 1]
  assert.equal(mail.subject, 'Your verification code')
  const code = /<code>(\d{6})<\/code>/.exec(mail.html)?.[1]
  assert.ok(code, mail.html)
  return code
}

const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')
const signIn = async (email: string, password: string, extra: { otpToken?: string, backupCode?: string } = {}) =>
  (await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email, password, ...extra })).body.data.signIn

/** A person with e-mail OTP switched on (one mail consumed). */
async function personWithEmailOtp() {
  const caller = await personSession(server.url)
  assert.deepEqual((await gql(server.url, caller.token, INIT)).body.data.initEmailOtp, { ok: true, error: null })
  const code = await mailedCode(caller.email, 1)
  const confirmed = (await gql(server.url, caller.token, CONFIRM, { otpToken: code })).body.data.confirmEmailOtp
  assert.equal(confirmed.ok, true, JSON.stringify(confirmed))
  return { ...caller, backupCodes: confirmed.result.backupCodes as string[] }
}

test('initEmailOtp mails a 6-digit code stored only as a hash; confirmEmailOtp switches it on and returns backup codes', async () => {
  const alice = await personSession(server.url)
  assert.deepEqual((await gql(server.url, alice.token, ME)).body.data.me.person, { otpEnabled: false, emailOtpEnabled: false })
  assert.deepEqual((await gql(server.url, alice.token, INIT)).body.data.initEmailOtp, { ok: true, error: null })
  const code = await mailedCode(alice.email, 1)
  const [row] = await server.runtime.database.rows<{ otp_hash: string, expires_at: Date, type: string }>(
    sql`select otp_hash, expires_at, type from person_token where person_id = ${alice.personId} and type = 'mfa_email_otp'`)
  assert.match(row.otp_hash, /^[0-9a-f]{64}$/)
  assert.notEqual(row.otp_hash, sha256Hex(code))
  const lifetime = new Date(row.expires_at).getTime() - Date.now()
  assert.ok(lifetime > 9 * 60_000 && lifetime <= 10 * 60_000, `about 10 minutes, got ${lifetime}`)

  assert.deepEqual((await gql(server.url, alice.token, CONFIRM, { otpToken: wrongCode(code) })).body.data.confirmEmailOtp, {
    ok: false, result: null,
    error: { code: 'INVALID_OTP_TOKEN', developerMessage: 'The code is wrong, expired or already used. Request a new one with initEmailOtp.' },
  })
  const confirmed = (await gql(server.url, alice.token, CONFIRM, { otpToken: code })).body.data.confirmEmailOtp
  assert.equal(confirmed.ok, true)
  assert.equal(confirmed.result.backupCodes.length, 10)
  assert.deepEqual((await gql(server.url, alice.token, ME)).body.data.me.person, { otpEnabled: false, emailOtpEnabled: true })
  // The code was spent by the confirmation.
  assert.equal((await gql(server.url, alice.token, CONFIRM, { otpToken: code })).body.data.confirmEmailOtp.error.code, 'INVALID_OTP_TOKEN')

  const audit = await server.runtime.database.rows<{ type: string, success: boolean }>(
    sql`select type, success from audit_event where person_id = ${alice.personId} and type in ('email_otp_sent', '2fa_enable', 'backup_code_generated') order by created_at, seq`)
  // 2fa_enable and backup_code_generated share the confirmation's transaction (and created_at): seq keeps write order.
  assert.deepEqual(audit.map((event) => `${event.type}:${event.success}`),
    ['email_otp_sent:true', '2fa_enable:false', '2fa_enable:true', 'backup_code_generated:true', '2fa_enable:false'])
})

test('initEmailOtp twice within the resend interval is RATE_LIMITED (one mail); a person without e-mail is NO_EMAIL', async () => {
  const bob = await personSession(server.url)
  assert.equal((await gql(server.url, bob.token, INIT)).body.data.initEmailOtp.ok, true)
  assert.deepEqual((await gql(server.url, bob.token, INIT)).body.data.initEmailOtp, {
    ok: false, error: { code: 'RATE_LIMITED', developerMessage: 'A code was sent less than 30 seconds ago; use it or wait.' },
  })
  await sink.waitForMailTo(bob.email, 1)
  assert.equal(sink.mailsTo(bob.email).length, 1)

  // An IdP-only person has no address (seeded: no public operation creates one without an IdP).
  const db = server.runtime.ctx.db
  const [created] = await db.insert(identity).values({ roles: ['person'] }).returning({ id: identity.id })
  await db.insert(person).values({ identityId: created.id, email: null, name: 'no mail', idpOnly: true })
  const token = generateToken()
  await db.insert(apiKey).values({ tokenHash: sha256Hex(token), type: 'session', identityId: created.id, expiresAt: new Date(Date.now() + 3_600_000) })
  assert.deepEqual((await gql(server.url, token, INIT)).body.data.initEmailOtp, {
    ok: false, error: { code: 'NO_EMAIL', developerMessage: 'The person has no e-mail address to send codes to.' },
  })
})

test('signIn without a code mails one and answers OTP_REQUIRED; the mailed code signs in once; no second mail while one is fresh', async () => {
  const carol = await personWithEmailOtp()
  const first = await signIn(carol.email, carol.password)
  assert.deepEqual(first, { ok: false, error: { code: 'OTP_REQUIRED', developerMessage: '2FA is enabled. OTP token is required' }, result: null })
  const code = await mailedCode(carol.email, 2)
  assert.equal((await signIn(carol.email, carol.password)).error.code, 'OTP_REQUIRED')
  assert.equal(sink.mailsTo(carol.email).length, 2, 'a fresh unused code is not re-sent')

  assert.equal((await signIn(carol.email, carol.password, { otpToken: wrongCode(code) })).error.code, 'INVALID_OTP_TOKEN')
  const signedIn = await signIn(carol.email, carol.password, { otpToken: code })
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
  const me = await gql(server.url, signedIn.result.token, ME)
  assert.equal(me.body.data.me.person.emailOtpEnabled, true)
  assert.equal((await signIn(carol.email, carol.password, { otpToken: code })).error.code, 'INVALID_OTP_TOKEN', 'a code signs in once')

  // The spent code no longer holds back a new one.
  assert.equal((await signIn(carol.email, carol.password)).error.code, 'OTP_REQUIRED')
  const next = await mailedCode(carol.email, 3)
  assert.equal((await signIn(carol.email, carol.password, { otpToken: next })).ok, true)
  // A backup code works instead of the mailed code.
  assert.equal((await signIn(carol.email, carol.password, { backupCode: carol.backupCodes[0] })).ok, true)
})

test('a mailed code survives at most five wrong tries; then even the right code fails', async () => {
  const dave = await personWithEmailOtp()
  assert.equal((await signIn(dave.email, dave.password)).error.code, 'OTP_REQUIRED')
  const code = await mailedCode(dave.email, 2)
  for (let attempt = 0; attempt < 5; attempt++) {
    assert.equal((await signIn(dave.email, dave.password, { otpToken: wrongCode(code) })).error.code, 'INVALID_OTP_TOKEN')
  }
  assert.equal((await signIn(dave.email, dave.password, { otpToken: code })).error.code, 'INVALID_OTP_TOKEN')
  const [row] = await server.runtime.database.rows<{ otp_attempts: number }>(
    sql`select otp_attempts from person_token where person_id = ${dave.personId} and type = 'mfa_email_otp' and used_at is null`)
  assert.equal(row.otp_attempts, 5)
})

test('concurrent wrong guesses are each counted', async () => {
  const erin = await personWithEmailOtp()
  assert.equal((await signIn(erin.email, erin.password)).error.code, 'OTP_REQUIRED')
  const code = await mailedCode(erin.email, 2)
  const guesses = await Promise.all(Array.from({ length: 8 }, () => signIn(erin.email, erin.password, { otpToken: wrongCode(code) })))
  assert.ok(guesses.every((result) => result.error?.code === 'INVALID_OTP_TOKEN'))
  const [row] = await server.runtime.database.rows<{ otp_attempts: number }>(
    sql`select otp_attempts from person_token where person_id = ${erin.personId} and type = 'mfa_email_otp' and used_at is null`)
  assert.equal(row.otp_attempts, 5, 'attempts stop counting at the bound, none is lost')
  assert.equal((await signIn(erin.email, erin.password, { otpToken: code })).error.code, 'INVALID_OTP_TOKEN')
})

test('disableEmailOtp: EMAIL_OTP_NOT_ACTIVE first; then switches it off, drops backup codes, and signIn needs no code', async () => {
  const frank = await personSession(server.url)
  assert.deepEqual((await gql(server.url, frank.token, DISABLE)).body.data.disableEmailOtp, {
    ok: false, error: { code: 'EMAIL_OTP_NOT_ACTIVE', developerMessage: 'E-mail OTP is not active, you cannot disable it.' },
  })
  const grace = await personWithEmailOtp()
  assert.deepEqual((await gql(server.url, grace.token, DISABLE)).body.data.disableEmailOtp, { ok: true, error: null })
  assert.equal((await gql(server.url, grace.token, ME)).body.data.me.person.emailOtpEnabled, false)
  const codes = await server.runtime.database.rows<{ n: number }>(sql`select count(*)::int as n from person_backup_code where person_id = ${grace.personId}`)
  assert.equal(codes[0].n, 0)
  assert.equal((await signIn(grace.email, grace.password)).ok, true)
  assert.equal(sink.mailsTo(grace.email).length, 1, 'no code mailed once e-mail OTP is off')
})

test('the e-mail OTP operations refuse the login token and a key without a person', async () => {
  const key = await globalKey(server.url, ['person'])
  for (const [query, field, what] of [[INIT, 'initEmailOtp', 'set up e-mail OTP'], [CONFIRM, 'confirmEmailOtp', 'set up e-mail OTP'], [DISABLE, 'disableEmailOtp', 'disable e-mail OTP']] as const) {
    const variables = field === 'confirmEmailOtp' ? { otpToken: '123456' } : undefined
    assertForbidden(await gql(server.url, LOGIN_TOKEN, query, variables), field, `You are not allowed to ${what}`)
    assertForbidden(await gql(server.url, key.token, query, variables), field, `Only a person can ${what}: this token has no person`)
  }
})
