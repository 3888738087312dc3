/**
 * Backup codes (2.2) over HTTP: issued by confirmOtp, regenerateBackupCodes, spent once by
 * signIn(backupCode:) and signInPasswordless(backupCode:), the BACKUP_CODES_EXHAUSTED mail from
 * the real SMTP sink, hashes only at rest, audit lines, and the permission denials. TOTP codes
 * come from otplib.
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

const PREPARE = 'mutation { prepareOtp { ok result { otpSecret } } }'
const CONFIRM = 'mutation($otpToken: String!) { confirmOtp(otpToken: $otpToken) { ok error { code } result { backupCodes } } }'
const DISABLE = 'mutation { disableOtp { ok error { code } } }'
const REGENERATE = 'mutation { regenerateBackupCodes { ok error { code developerMessage } result { backupCodes } } }'
const SIGN_IN = `mutation($email: String!, $password: String!, $otpToken: String, $backupCode: String) {
  signIn(email: $email, password: $password, otpToken: $otpToken, backupCode: $backupCode) { ok error { code developerMessage } result { token } } }`
const CODE = /^[a-z2-9]{5}-[a-z2-9]{5}$/

async function awayFromStepEdge(): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000)
  if (left < 4_000) await new Promise((resolve) => setTimeout(resolve, left + 250))
}

/** A signed-in person with TOTP switched on; returns the secret and the backup codes confirmOtp issued. */
async function personWithTotp() {
  const caller = await personSession(server.url)
  const prepared = await gql(server.url, caller.token, PREPARE)
  const secret = prepared.body.data.prepareOtp.result.otpSecret
  await awayFromStepEdge()
  const confirmed = await gql(server.url, caller.token, CONFIRM, { otpToken: authenticator.generate(secret) })
  assert.equal(confirmed.body.data.confirmOtp.ok, true, confirmed.text)
  return { ...caller, secret, backupCodes: confirmed.body.data.confirmOtp.result.backupCodes as string[] }
}

const signIn = async (email: string, password: string, extra: { otpToken?: string, backupCode?: string } = {}) =>
  (await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email, password, ...extra })).body.data.signIn

const auditTypes = async (personId: string) => (await server.runtime.database.rows<{ type: string, success: boolean, event_data: Record<string, unknown> | null }>(
  sql`select type, success, event_data from audit_event where person_id = ${personId} and type like 'backup_code%' order by created_at, seq`))

test('confirmOtp answers ten distinct codes once; only their SHA-256 is stored; audited backup_code_generated', async () => {
  const alice = await personWithTotp()
  assert.equal(alice.backupCodes.length, 10)
  assert.equal(new Set(alice.backupCodes).size, 10)
  for (const code of alice.backupCodes) assert.match(code, CODE)
  const rows = await server.runtime.database.rows<{ code_hash: string, used_at: Date | null }>(sql`select code_hash, used_at from person_backup_code where person_id = ${alice.personId}`)
  assert.equal(rows.length, 10)
  for (const row of rows) {
    assert.match(row.code_hash, /^[0-9a-f]{64}$/)
    assert.equal(row.used_at, null)
    assert.ok(!alice.backupCodes.some((code) => row.code_hash.includes(code.replace('-', ''))))
  }
  const audit = await auditTypes(alice.personId)
  assert.deepEqual(audit.map((event) => [event.type, event.event_data]), [['backup_code_generated', { count: 10, method: 'totp' }]])
})

test('signIn: a backup code replaces the TOTP code, once; a wrong or spent code is INVALID_OTP_TOKEN; case and dash do not matter', async () => {
  const bob = await personWithTotp()
  assert.equal((await signIn(bob.email, bob.password)).error.code, 'OTP_REQUIRED')

  const first = await signIn(bob.email, bob.password, { backupCode: bob.backupCodes[0] })
  assert.equal(first.ok, true, JSON.stringify(first))
  assert.match(first.result.token, /^[0-9a-f]{40}$/)
  const me = await gql(server.url, first.result.token, '{ me { person { id } } }')
  assert.equal(me.body.data.me.person.id, bob.personId)

  assert.deepEqual(await signIn(bob.email, bob.password, { backupCode: bob.backupCodes[0] }),
    { ok: false, error: { code: 'INVALID_OTP_TOKEN', developerMessage: 'OTP token validation has failed' }, result: null })
  assert.equal((await signIn(bob.email, bob.password, { backupCode: 'aaaaa-aaaaa' })).error.code, 'INVALID_OTP_TOKEN')

  const typed = bob.backupCodes[1].toUpperCase().replace('-', ' ')
  assert.equal((await signIn(bob.email, bob.password, { backupCode: typed })).ok, true)

  const used = await server.runtime.database.rows<{ n: number }>(sql`select count(*)::int as n from person_backup_code where person_id = ${bob.personId} and used_at is not null`)
  assert.equal(used[0].n, 2)
  const audit = await auditTypes(bob.personId)
  assert.deepEqual(audit.filter((event) => event.type === 'backup_code_used').map((event) => event.event_data), [{ remaining: 9 }, { remaining: 8 }])
  const failed = await server.runtime.database.rows<{ error_code: string }>(sql`select error_code from audit_event where person_id = ${bob.personId} and type = 'login' and not success order by created_at, seq`)
  assert.deepEqual(failed.map((row) => row.error_code), ['OTP_REQUIRED', 'INVALID_OTP_TOKEN', 'INVALID_OTP_TOKEN'])
})

test('two concurrent sign-ins with one backup code: exactly one succeeds', async () => {
  const carol = await personWithTotp()
  const results = await Promise.all([0, 1, 2].map(() => signIn(carol.email, carol.password, { backupCode: carol.backupCodes[3] })))
  assert.equal(results.filter((result) => result.ok).length, 1, JSON.stringify(results))
  assert.deepEqual(results.filter((result) => !result.ok).map((result) => result.error.code), ['INVALID_OTP_TOKEN', 'INVALID_OTP_TOKEN'])
})

test('regenerateBackupCodes replaces every old code; audited backup_code_regenerated', async () => {
  const dave = await personWithTotp()
  const response = await gql(server.url, dave.token, REGENERATE)
  const regenerated = response.body.data.regenerateBackupCodes
  assert.equal(regenerated.ok, true, response.text)
  assert.equal(regenerated.error, null)
  assert.equal(regenerated.result.backupCodes.length, 10)
  assert.ok(!regenerated.result.backupCodes.some((code: string) => dave.backupCodes.includes(code)))
  assert.equal((await signIn(dave.email, dave.password, { backupCode: dave.backupCodes[0] })).error.code, 'INVALID_OTP_TOKEN')
  assert.equal((await signIn(dave.email, dave.password, { backupCode: regenerated.result.backupCodes[0] })).ok, true)
  const audit = await auditTypes(dave.personId)
  assert.deepEqual(audit.map((event) => event.type), ['backup_code_generated', 'backup_code_regenerated', 'backup_code_used'])
})

test('regenerateBackupCodes without an active second factor is OTP_NOT_ACTIVE (also after disableOtp, which drops the codes)', async () => {
  const erin = await personSession(server.url)
  const response = await gql(server.url, erin.token, REGENERATE)
  assert.deepEqual(response.body.data.regenerateBackupCodes, {
    ok: false, result: null,
    error: { code: 'OTP_NOT_ACTIVE', developerMessage: 'No second factor is active: backup codes exist only with TOTP or e-mail OTP.' },
  })

  const frank = await personWithTotp()
  assert.equal((await gql(server.url, frank.token, DISABLE)).body.data.disableOtp.ok, true)
  const left = await server.runtime.database.rows<{ n: number }>(sql`select count(*)::int as n from person_backup_code where person_id = ${frank.personId}`)
  assert.equal(left[0].n, 0)
  assert.equal((await gql(server.url, frank.token, REGENERATE)).body.data.regenerateBackupCodes.error.code, 'OTP_NOT_ACTIVE')
  // Without a second factor a backup code is not asked for, and not checked.
  assert.equal((await signIn(frank.email, frank.password)).ok, true)
})

test('spending the last backup code mails BACKUP_CODES_EXHAUSTED to the person', async () => {
  const grace = await personWithTotp()
  for (const [index, code] of grace.backupCodes.entries()) {
    const result = await signIn(grace.email, grace.password, { backupCode: code })
    assert.equal(result.ok, true, `code ${index}: ${JSON.stringify(result)}`)
    if (index < 9) assert.equal(sink.mailsTo(grace.email).length, 0)
  }
  const [mail] = await sink.waitForMailTo(grace.email)
  assert.equal(mail.subject, 'You have used your last backup code')
  assert.match(mail.html, new RegExp(`The last backup code of ${grace.email.replace(/\./g, '\\.')} was just used`))
  assert.equal((await signIn(grace.email, grace.password, { backupCode: grace.backupCodes[9] })).error.code, 'INVALID_OTP_TOKEN')
  // TOTP still works once the codes are gone (the next step's code: confirmOtp spent the current one).
  await awayFromStepEdge()
  const nextCode = authenticator.clone({ epoch: Date.now() + 30_000 }).generate(grace.secret)
  assert.equal((await signIn(grace.email, grace.password, { otpToken: nextCode })).ok, true)
})

test('signInPasswordless(backupCode:) completes a passwordless sign-in of a TOTP person', async () => {
  const configured = await gql(server.url, ROOT_TOKEN, 'mutation { configure(config: { passwordless: { enabled: always, url: "https://app.example.com/in" } }) { ok error { code developerMessage } } }')
  assert.equal(configured.body.data.configure.ok, true, configured.text)
  const heidi = await personWithTotp()
  const init = await gql(server.url, LOGIN_TOKEN, 'mutation($email: String!) { initSignInPasswordless(email: $email) { ok result { requestId } } }', { email: heidi.email })
  const requestId = init.body.data.initSignInPasswordless.result.requestId
  const [mail] = await sink.waitForMailTo(heidi.email)
  const token = /token&#x3D;([0-9a-f]{40})/.exec(mail.html)?.[1]
  assert.ok(token, mail.html)
  const SIGN_IN_PASSWORDLESS = `mutation($requestId: String!, $token: String!, $backupCode: String) {
    signInPasswordless(requestId: $requestId, validationType: token, token: $token, backupCode: $backupCode) { ok error { code } result { token } } }`
  const without = await gql(server.url, LOGIN_TOKEN, SIGN_IN_PASSWORDLESS, { requestId, token })
  assert.equal(without.body.data.signInPasswordless.error.code, 'OTP_REQUIRED')
  const wrong = await gql(server.url, LOGIN_TOKEN, SIGN_IN_PASSWORDLESS, { requestId, token, backupCode: 'zzzzz-zzzzz' })
  assert.equal(wrong.body.data.signInPasswordless.error.code, 'INVALID_OTP_TOKEN')
  const withCode = await gql(server.url, LOGIN_TOKEN, SIGN_IN_PASSWORDLESS, { requestId, token, backupCode: heidi.backupCodes[0] })
  assert.equal(withCode.body.data.signInPasswordless.ok, true, withCode.text)
})

test('regenerateBackupCodes: the login token is refused (person:setupOtp), a key without a person too', async () => {
  assertForbidden(await gql(server.url, LOGIN_TOKEN, REGENERATE), 'regenerateBackupCodes', 'You are not allowed to regenerate backup codes')
  const key = await globalKey(server.url, ['person'])
  assertForbidden(await gql(server.url, key.token, REGENERATE), 'regenerateBackupCodes', 'Only a person can regenerate backup codes: this token has no person')
})
