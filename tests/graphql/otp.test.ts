/**
 * prepareOtp / confirmOtp / disableOtp over HTTP (Contember §7.4). Codes come from otplib, an
 * implementation independent of ours; the secret is read only from the prepareOtp answer.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { authenticator } from 'otplib'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { personSession } from '../helpers/accounts.js'
import { apiKey, identity, person } from '../../src/db/schema.js'
import { generateToken, sha256Hex } from '../../src/domain/crypto/tokens.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server.close() })

const PREPARE = 'mutation($label: String) { prepareOtp(label: $label) { ok result { otpUri otpSecret } } }'
const CONFIRM = 'mutation($otpToken: String!) { confirmOtp(otpToken: $otpToken) { ok errors { code } error { code developerMessage endUserMessage } } }'
const DISABLE = 'mutation { disableOtp { ok errors { code } error { code developerMessage endUserMessage } } }'
const ME = '{ me { person { otpEnabled } } }'

/** A caller with a session key: a person (roles ["person"]) unless `withPerson` is false. */
async function seedCaller(email: string, options: { roles?: string[], withPerson?: boolean } = {}): Promise<{ token: string, personId?: string }> {
  const db = server.runtime.ctx.db
  const [created] = await db.insert(identity).values({ roles: options.roles ?? ['person'] }).returning({ id: identity.id })
  let personId: string | undefined
  if (options.withPerson !== false) {
    const [row] = await db.insert(person).values({ identityId: created.id, email, name: email.split('@')[0] }).returning({ id: person.id })
    personId = row.id
  }
  const token = generateToken()
  await db.insert(apiKey).values({ tokenHash: sha256Hex(token), type: 'session', identityId: created.id, expiresAt: new Date(Date.now() + 3_600_000) })
  return { token, personId }
}

/** otplib's code for the step `offset` steps away from now. */
const codeAt = (secret: string, offset: number) => authenticator.clone({ epoch: Date.now() + offset * 30_000 }).generate(secret)

/**
 * Waits while the current 30 s step is about to end, so that "previous", "current" and "next"
 * step mean the same thing to the test and to the server handling the request just after.
 */
async function awayFromStepEdge(): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000)
  if (left < 4_000) await new Promise((resolve) => setTimeout(resolve, left + 250))
}

async function prepare(token: string, label?: string): Promise<{ otpUri: string, otpSecret: string }> {
  const response = await gql(server.url, token, PREPARE, { label })
  assert.equal(response.status, 200)
  assert.equal(response.body.data.prepareOtp?.ok, true, response.text)
  return response.body.data.prepareOtp.result
}

const confirm = async (token: string, otpToken: string) => (await gql(server.url, token, CONFIRM, { otpToken })).body.data.confirmOtp
const otpEnabled = async (token: string) => (await gql(server.url, token, ME)).body.data.me.person.otpEnabled

test('prepareOtp returns the otpauth URI exactly as Contember and stores it encrypted', async () => {
  const alice = await seedCaller('alice@example.com')
  const { otpUri, otpSecret } = await prepare(alice.token)
  assert.match(otpSecret, /^[A-Z2-7]{32}$/, '20 random bytes in base32 are 32 characters without padding')
  assert.equal(otpUri, `otpauth://totp/Contember:alice%40example.com?issuer=Contember&secret=${otpSecret}&algorithm=SHA1&digits=6&period=30`)

  const labelled = await prepare(alice.token, 'My App')
  assert.notEqual(labelled.otpSecret, otpSecret)
  assert.equal(labelled.otpUri, `otpauth://totp/My%20App:alice%40example.com?issuer=My%20App&secret=${labelled.otpSecret}&algorithm=SHA1&digits=6&period=30`)

  const rows = await server.runtime.database.rows<{ sealed: string }>(sql`select otp_uri_encrypted as sealed from person_mfa where person_id = ${alice.personId}`)
  assert.equal(rows.length, 1)
  assert.match(rows[0].sealed, /^v1:/)
  assert.ok(!rows[0].sealed.includes(labelled.otpSecret), 'the secret is not stored in clear')
  assert.equal(await otpEnabled(alice.token), false)
})

test('confirmOtp: NOT_PREPARED first, then INVALID_OTP_TOKEN for wrong and stale codes, then a code of the previous step activates', async () => {
  const bob = await seedCaller('bob@example.com')
  assert.deepEqual(await confirm(bob.token, '123456'), {
    ok: false,
    errors: [{ code: 'NOT_PREPARED' }],
    error: { code: 'NOT_PREPARED', developerMessage: 'OTP setup was not initialized. Call prepareOtp first.', endUserMessage: null },
  })
  const { otpSecret } = await prepare(bob.token)
  await awayFromStepEdge()
  const invalid = { ok: false, errors: [{ code: 'INVALID_OTP_TOKEN' }], error: { code: 'INVALID_OTP_TOKEN', developerMessage: 'Provided token is not correct.', endUserMessage: null } }
  const current = codeAt(otpSecret, 0)
  const wrong = String((Number(current) + 1) % 1_000_000).padStart(6, '0')
  assert.deepEqual(await confirm(bob.token, wrong), invalid)
  assert.deepEqual(await confirm(bob.token, 'abcdef'), invalid)
  assert.deepEqual(await confirm(bob.token, codeAt(otpSecret, -2)), invalid, 'two steps back is outside the ±1 window')
  assert.deepEqual(await confirm(bob.token, codeAt(otpSecret, 2)), invalid, 'two steps ahead is outside the ±1 window')
  assert.equal(await otpEnabled(bob.token), false)

  assert.deepEqual(await confirm(bob.token, codeAt(otpSecret, -1)), { ok: true, errors: [], error: null })
  assert.equal(await otpEnabled(bob.token), true)

  const audit = await server.runtime.database.rows<{ type: string, success: boolean, error_code: string | null }>(
    sql`select type, success, error_code from audit_event where person_id = ${bob.personId} order by created_at, seq`)
  assert.deepEqual(audit.filter((row) => row.type === '2fa_enable').map((row) => [row.success, row.error_code]),
    [[false, 'INVALID_OTP_TOKEN'], [false, 'INVALID_OTP_TOKEN'], [false, 'INVALID_OTP_TOKEN'], [false, 'INVALID_OTP_TOKEN'], [true, null]])
})

test('a code of the next step is accepted, a code is usable once, and older steps are refused after a newer one', async () => {
  const carol = await seedCaller('carol@example.com')
  const { otpSecret } = await prepare(carol.token)
  await awayFromStepEdge()
  const next = codeAt(otpSecret, 1)
  assert.equal((await confirm(carol.token, next)).ok, true)
  assert.equal((await confirm(carol.token, next)).error.code, 'INVALID_OTP_TOKEN', 'the same code twice')
  assert.equal((await confirm(carol.token, codeAt(otpSecret, 0))).error.code, 'INVALID_OTP_TOKEN', 'a step older than the last accepted one')
  assert.equal(await otpEnabled(carol.token), true)

  // prepareOtp again: a new secret, 2FA off until confirmed again.
  const again = await prepare(carol.token)
  assert.equal(await otpEnabled(carol.token), false)
  assert.equal((await confirm(carol.token, codeAt(otpSecret, 0))).error.code, 'INVALID_OTP_TOKEN', 'the old secret no longer works')
  assert.equal((await confirm(carol.token, codeAt(again.otpSecret, 0))).ok, true)
})

test('disableOtp: OTP_NOT_ACTIVE without a secret; clears a prepared or active secret', async () => {
  const dave = await seedCaller('dave@example.com')
  const notActive = { ok: false, errors: [{ code: 'OTP_NOT_ACTIVE' }], error: { code: 'OTP_NOT_ACTIVE', developerMessage: 'OTP is not active, you cannot disable it.', endUserMessage: null } }
  assert.deepEqual((await gql(server.url, dave.token, DISABLE)).body.data.disableOtp, notActive)

  const { otpSecret } = await prepare(dave.token)
  await awayFromStepEdge()
  assert.equal((await confirm(dave.token, codeAt(otpSecret, 0))).ok, true)
  assert.deepEqual((await gql(server.url, dave.token, DISABLE)).body.data.disableOtp, { ok: true, errors: [], error: null })
  assert.equal(await otpEnabled(dave.token), false)
  assert.equal((await confirm(dave.token, codeAt(otpSecret, 1))).error.code, 'NOT_PREPARED')
  assert.deepEqual((await gql(server.url, dave.token, DISABLE)).body.data.disableOtp, notActive)

  await prepare(dave.token)
  assert.equal((await gql(server.url, dave.token, DISABLE)).body.data.disableOtp.ok, true, 'a prepared, unconfirmed secret can be dropped')
  const rows = await server.runtime.database.rows<{ sealed: string | null }>(sql`select otp_uri_encrypted as sealed from person_mfa where person_id = ${dave.personId}`)
  assert.equal(rows[0].sealed, null)
})

test('the root person may set up OTP too (super_admin with a person)', async () => {
  const { otpSecret, otpUri } = await prepare(ROOT_TOKEN)
  assert.match(otpUri, /^otpauth:\/\/totp\/Contember:root%40example\.com\?/)
  await awayFromStepEdge()
  assert.equal((await confirm(ROOT_TOKEN, codeAt(otpSecret, 0))).ok, true)
  assert.equal((await gql(server.url, ROOT_TOKEN, DISABLE)).body.data.disableOtp.ok, true)
})

test('permission denials: the login token and an identity without the person role are refused; no person is a clear ForbiddenError', async () => {
  const roleless = await seedCaller('roleless@example.com', { roles: [] })
  const personless = await seedCaller('unused@example.com', { roles: ['person'], withPerson: false })
  const cases: [string, string][] = [
    [LOGIN_TOKEN, 'You are not allowed to setup a OTP'],
    [roleless.token, 'You are not allowed to setup a OTP'],
    [personless.token, 'Only a person can set up two-factor authentication: this token has no person'],
  ]
  for (const [token, message] of cases) {
    for (const [field, query, variables] of [['prepareOtp', PREPARE, {}], ['confirmOtp', CONFIRM, { otpToken: '123456' }], ['disableOtp', DISABLE, {}]] as const) {
      const response = await gql(server.url, token, query, variables)
      assert.equal(response.status, 200, `${field} is nullable, so a denial keeps 200`)
      assert.deepEqual(response.body.data, { [field]: null })
      assert.equal(response.body.errors.length, 1)
      assert.equal(response.body.errors[0].message, message)
      assert.deepEqual(response.body.errors[0].extensions, { code: 'ForbiddenError' })
      assert.deepEqual(response.body.errors[0].path, [field])
    }
  }
  const stored = await server.runtime.database.rows(sql`select 1 from person_mfa where person_id = ${roleless.personId}`)
  assert.equal(stored.length, 0, 'a refused prepareOtp writes nothing')
})

test('signIn after confirmOtp: the confirming code is spent, a next-step code signs in once', async () => {
  const erin = await personSession(server.url)
  const { otpSecret } = await prepare(erin.token)
  await awayFromStepEdge()
  const confirmed = codeAt(otpSecret, 0)
  assert.equal((await confirm(erin.token, confirmed)).ok, true)
  const SIGN_IN = 'mutation($email: String!, $password: String!, $otpToken: String) { signIn(email: $email, password: $password, otpToken: $otpToken) { ok error { code developerMessage } result { token } } }'
  const signIn = async (otpToken?: string) => (await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: erin.email, password: erin.password, otpToken })).body.data.signIn
  const invalid = { code: 'INVALID_OTP_TOKEN', developerMessage: 'OTP token validation has failed' }
  assert.deepEqual((await signIn()).error, { code: 'OTP_REQUIRED', developerMessage: '2FA is enabled. OTP token is required' })
  assert.deepEqual((await signIn(confirmed)).error, invalid, 'the code confirmOtp accepted is not usable again')
  const next = codeAt(otpSecret, 1)
  const signedIn = await signIn(next)
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
  assert.match(signedIn.result.token, /^[0-9a-f]{40}$/)
  assert.deepEqual((await signIn(next)).error, invalid, 'replay of the code that just signed in')
})
