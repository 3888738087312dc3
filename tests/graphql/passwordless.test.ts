/**
 * Passwordless sign-in over HTTP (Contember §7.5, §9): the magic link, the OTP exchange with at
 * most three wrong tries, expiry, reuse, the validation order, TOTP after the first factor, mail
 * project and variant. Links are read from mails delivered to a real SMTP sink; TOTP codes come
 * from otplib. The tenant configuration is written to the config row with SQL.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { authenticator } from 'otplib'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp.js'
import { gql } from '../helpers/http.js'
import { apiKey, identity, mailTemplate, person, project, projectMembership } from '../../src/db/schema.js'
import { generateToken, sha256Hex } from '../../src/domain/crypto/tokens.js'

let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl } })
  await configure({ enabled: 'always', url: 'https://app.example.com/sign-in?keep=1' })
})
after(async () => {
  await server.close()
  await sink.close()
})

const INIT = `mutation($email: String!, $options: InitSignInPasswordlessOptions) {
  initSignInPasswordless(email: $email, options: $options) { ok error { code developerMessage } result { requestId expiresAt } } }`
const ACTIVATE = `mutation($requestId: String!, $token: String!, $otpHash: String!) {
  activatePasswordlessOtp(requestId: $requestId, token: $token, otpHash: $otpHash) { ok error { code developerMessage } } }`
const SIGN_IN = `mutation($requestId: String!, $validationType: PasswordlessValidationType!, $token: String!, $expiration: Int, $mfaOtp: String) {
  signInPasswordless(requestId: $requestId, validationType: $validationType, token: $token, expiration: $expiration, mfaOtp: $mfaOtp) {
    ok error { code developerMessage } result { token person { id email name } } } }`

async function configure(passwordless: { enabled: string, url?: string | null, expirationMinutes?: number }) {
  // 2.0.8's answers reveal unknown e-mails (2.2's login.revealUserExists, off by default here).
  const login = { revealUserExists: true }
  await server.runtime.database.rows(sql`insert into config (id, value) values ('singleton', ${JSON.stringify({ passwordless, login })}::jsonb)
    on conflict (id) do update set value = excluded.value`)
}

async function seedPerson(email: string, options: { disabled?: boolean, roles?: string[] } = {}) {
  const db = server.runtime.ctx.db
  const [created] = await db.insert(identity).values({ roles: options.roles ?? ['person'] }).returning({ id: identity.id })
  const [row] = await db.insert(person).values({ identityId: created.id, email, name: email.split('@')[0], disabledAt: options.disabled ? new Date() : null })
    .returning({ id: person.id })
  const token = generateToken()
  await db.insert(apiKey).values({ tokenHash: sha256Hex(token), type: 'session', identityId: created.id, expiresAt: new Date(Date.now() + 3_600_000) })
  return { personId: row.id, identityId: created.id, token }
}

const init = async (email: string, options?: Record<string, string>) => (await gql(server.url, LOGIN_TOKEN, INIT, { email, options })).body.data.initSignInPasswordless
const activate = async (requestId: string, token: string, otpHash: string) =>
  (await gql(server.url, LOGIN_TOKEN, ACTIVATE, { requestId, token, otpHash })).body.data.activatePasswordlessOtp
const signIn = async (variables: { requestId: string, validationType: 'token' | 'otp', token: string, expiration?: number, mfaOtp?: string }) =>
  (await gql(server.url, LOGIN_TOKEN, SIGN_IN, variables)).body.data.signInPasswordless
const error = (code: string, developerMessage: string) => ({ ok: false, error: { code, developerMessage }, result: null })
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

/** The html of a mail as a browser reads an attribute: entities decoded. */
const decodeEntities = (html: string) => html
  .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

async function mailFor(address: string, count = 1): Promise<ReceivedMail> {
  for (;;) {
    const mails = sink.mailsTo(address)
    if (mails.length >= count) return mails[count - 1]
    await sink.waitForMails(sink.mails.length + 1)
  }
}

async function linkFor(address: string, count = 1): Promise<URL> {
  const mail = await mailFor(address, count)
  const href = /href="([^"]+)"/.exec(mail.html)
  assert.ok(href, `a link in ${mail.html}`)
  return new URL(decodeEntities(href[1]))
}

test('magic link: request, mail with url + token/request_id/email, sign in with the token once', async () => {
  const alice = await seedPerson('alice@example.com')
  const before = Date.now()
  const started = await init('alice@example.com')
  assert.equal(started.ok, true)
  assert.equal(started.error, null)
  const { requestId, expiresAt } = started.result
  assert.match(requestId, /^[0-9a-f-]{36}$/)
  const lifetime = Date.parse(expiresAt) - before
  assert.ok(lifetime >= 5 * 60_000 - 1000 && lifetime <= 5 * 60_000 + 60_000, `default lifetime is 5 minutes, got ${lifetime} ms`)

  const mail = await mailFor('alice@example.com')
  assert.equal(mail.subject, 'Sign in here')
  const link = await linkFor('alice@example.com')
  assert.equal(link.origin + link.pathname, 'https://app.example.com/sign-in')
  assert.equal(link.searchParams.get('keep'), '1', 'existing parameters are kept')
  assert.equal(link.searchParams.get('request_id'), requestId)
  assert.equal(link.searchParams.get('email'), 'alice@example.com')
  const token = link.searchParams.get('token')!
  assert.match(token, /^[0-9a-f]{40}$/)
  const stored = await server.runtime.database.rows<{ token_hash: string }>(sql`select token_hash from person_token where id = ${requestId}`)
  assert.equal(stored[0].token_hash, sha256(token), 'only the hash is stored')

  const signedIn = await signIn({ requestId, validationType: 'token', token, expiration: 60 })
  assert.equal(signedIn.ok, true)
  assert.deepEqual(signedIn.result.person, { id: alice.personId, email: 'alice@example.com', name: 'alice' })
  assert.match(signedIn.result.token, /^[0-9a-f]{40}$/)
  const me = await gql(server.url, signedIn.result.token, '{ me { id person { email } } }')
  assert.deepEqual(me.body.data.me, { id: alice.identityId, person: { email: 'alice@example.com' } })
  const session = await server.runtime.database.rows<{ expiration: number, type: string }>(sql`select expiration, type from api_key where token_hash = ${sha256(signedIn.result.token)}`)
  assert.deepEqual(session, [{ expiration: 60, type: 'session' }])

  const again = await signIn({ requestId, validationType: 'token', token })
  assert.equal(again.error.code, 'TOKEN_USED')
  assert.match(again.error.developerMessage, /^Token used at \d{4}-\d\d-\d\dT/)
  assert.equal((await activate(requestId, token, sha256('ABC123'))).error.code, 'TOKEN_USED')
})

test('OTP exchange: the link device activates an OTP hash, the other device signs in with the OTP', async () => {
  const bob = await seedPerson('bob@example.com')
  const { requestId } = (await init('bob@example.com')).result
  const token = (await linkFor('bob@example.com')).searchParams.get('token')!

  assert.deepEqual(await signIn({ requestId, validationType: 'otp', token: 'F00D42' }), error('TOKEN_INVALID', 'OTP not set'))
  assert.deepEqual(await activate(requestId, token, sha256('F00D42')), { ok: true, error: null })
  assert.deepEqual(await signIn({ requestId, validationType: 'token', token }), error('TOKEN_INVALID', 'The token was exchanged for OTP'))
  assert.deepEqual(await activate(requestId, token, sha256('000000')), { ok: false, error: { code: 'TOKEN_INVALID', developerMessage: 'The token was exchanged for OTP' } })

  const signedIn = await signIn({ requestId, validationType: 'otp', token: 'F00D42' })
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
  assert.equal(signedIn.result.person.id, bob.personId)
  assert.equal((await signIn({ requestId, validationType: 'otp', token: 'F00D42' })).error.code, 'TOKEN_USED')
})

test('three wrong OTPs, then TOKEN_EXPIRED even for the right one; "OTP not set" counts too', async () => {
  await seedPerson('carol@example.com')
  const { requestId } = (await init('carol@example.com')).result
  const token = (await linkFor('carol@example.com')).searchParams.get('token')!
  assert.equal((await signIn({ requestId, validationType: 'otp', token: '111111' })).error.developerMessage, 'OTP not set')
  assert.equal((await activate(requestId, token, sha256('7A7A7A'))).ok, true)
  assert.deepEqual(await signIn({ requestId, validationType: 'otp', token: '222222' }), error('TOKEN_INVALID', 'OTP invalid'))
  assert.deepEqual(await signIn({ requestId, validationType: 'otp', token: '333333' }), error('TOKEN_INVALID', 'OTP invalid'))
  assert.deepEqual(await signIn({ requestId, validationType: 'otp', token: '7A7A7A' }), error('TOKEN_EXPIRED', 'OTP attempts exceeded'))
  const [row] = await server.runtime.database.rows<{ otp_attempts: number, used_at: Date | null }>(sql`select otp_attempts, used_at from person_token where id = ${requestId}`)
  assert.deepEqual(row, { otp_attempts: 3, used_at: null })

  // The same on a fresh request, with three OTP mismatches only.
  const second = (await init('carol@example.com')).result.requestId
  const secondToken = (await linkFor('carol@example.com', 2)).searchParams.get('token')!
  assert.equal((await activate(second, secondToken, sha256('B0B0B0'))).ok, true)
  for (const wrong of ['000001', '000002', '000003']) assert.equal((await signIn({ requestId: second, validationType: 'otp', token: wrong })).error.code, 'TOKEN_INVALID')
  assert.deepEqual(await signIn({ requestId: second, validationType: 'otp', token: 'B0B0B0' }), error('TOKEN_EXPIRED', 'OTP attempts exceeded'))
  assert.equal((await signIn({ requestId: second, validationType: 'token', token: secondToken })).error.code, 'TOKEN_INVALID', 'the attempt limit applies to OTP only')
})

test('concurrent attempts: parallel wrong OTPs count at most three; parallel sign-ins with one token give one session', async () => {
  await seedPerson('judy@example.com')
  const guessed = (await init('judy@example.com')).result.requestId
  const guessedToken = (await linkFor('judy@example.com')).searchParams.get('token')!
  assert.equal((await activate(guessed, guessedToken, sha256('C0FFEE'))).ok, true)
  const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => signIn({ requestId: guessed, validationType: 'otp', token: `00000${i}` })))
  assert.deepEqual(guesses.map((g) => g.error.code).sort(), [...Array(3).fill('TOKEN_INVALID'), ...Array(5).fill('TOKEN_EXPIRED')].sort())
  assert.equal((await signIn({ requestId: guessed, validationType: 'otp', token: 'C0FFEE' })).error.code, 'TOKEN_EXPIRED')

  const raced = (await init('judy@example.com')).result.requestId
  const racedToken = (await linkFor('judy@example.com', 2)).searchParams.get('token')!
  const results = await Promise.all(Array.from({ length: 5 }, () => signIn({ requestId: raced, validationType: 'token', token: racedToken })))
  assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results))
  assert.deepEqual([...new Set(results.filter((r) => !r.ok).map((r) => r.error.code))], ['TOKEN_USED'])
})

test('unknown or malformed request, wrong token, expired token, lifetime from the configuration', async () => {
  await seedPerson('dave@example.com')
  assert.deepEqual(await signIn({ requestId: randomUUID(), validationType: 'token', token: 'x' }), error('TOKEN_NOT_FOUND', 'Token not found'))
  assert.deepEqual(await signIn({ requestId: 'not-a-uuid', validationType: 'otp', token: 'x' }), error('TOKEN_NOT_FOUND', 'Token not found'))
  assert.deepEqual(await activate(randomUUID(), 'x', sha256('x')), { ok: false, error: { code: 'TOKEN_NOT_FOUND', developerMessage: 'Token not found' } })

  await configure({ enabled: 'always', url: 'https://app.example.com/sign-in', expirationMinutes: 15 })
  const before = Date.now()
  const { requestId, expiresAt } = (await init('dave@example.com')).result
  const lifetime = Date.parse(expiresAt) - before
  assert.ok(lifetime >= 15 * 60_000 - 1000 && lifetime <= 15 * 60_000 + 60_000, `configured lifetime is 15 minutes, got ${lifetime} ms`)
  const token = (await linkFor('dave@example.com')).searchParams.get('token')!
  assert.deepEqual(await signIn({ requestId, validationType: 'token', token: generateToken() }), error('TOKEN_INVALID', 'Token invalid'))
  assert.deepEqual(await activate(requestId, generateToken(), sha256('x')), { ok: false, error: { code: 'TOKEN_INVALID', developerMessage: 'Token invalid' } })

  // Time passes: the row's expiry moves into the past.
  const [{ expires_at: past }] = await server.runtime.database.rows<{ expires_at: Date }>(
    sql`update person_token set expires_at = now() - interval '1 second' where id = ${requestId} returning expires_at`)
  const expired = await signIn({ requestId, validationType: 'token', token })
  assert.deepEqual(expired, error('TOKEN_EXPIRED', `Token expired at ${new Date(past).toISOString()}`))
  assert.equal((await activate(requestId, token, sha256('x'))).error.code, 'TOKEN_EXPIRED')
  await configure({ enabled: 'always', url: 'https://app.example.com/sign-in?keep=1' })
})

test('init errors: unknown e-mail; a disabled person gets the mail but PERSON_DISABLED at sign-in', async () => {
  assert.deepEqual(await init('nobody@example.com'), error('PERSON_NOT_FOUND', 'Person nobody@example.com not found'))
  await seedPerson('erin@example.com', { disabled: true })
  const { requestId } = (await init('Erin@Example.com')).result
  const link = await linkFor('erin@example.com')
  assert.equal(link.searchParams.get('email'), 'Erin@Example.com', 'the link carries the address as typed, as Contember')
  assert.deepEqual(await signIn({ requestId, validationType: 'token', token: link.searchParams.get('token')! }), error('PERSON_DISABLED', 'Person is disabled'))
})

test('TOTP after the link: OTP_REQUIRED, INVALID_OTP_TOKEN, a code is usable once', async () => {
  const frank = await seedPerson('frank@example.com')
  const prepared = await gql(server.url, frank.token, 'mutation { prepareOtp { result { otpSecret } } }')
  const secret = prepared.body.data.prepareOtp.result.otpSecret
  const left = 30_000 - (Date.now() % 30_000)
  if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 250))
  const code = (offset: number) => authenticator.clone({ epoch: Date.now() + offset * 30_000 }).generate(secret)
  const confirmed = code(0)
  const confirm = await gql(server.url, frank.token, 'mutation($c: String!) { confirmOtp(otpToken: $c) { ok } }', { c: confirmed })
  assert.equal(confirm.body.data.confirmOtp.ok, true)

  const { requestId } = (await init('frank@example.com')).result
  const token = (await linkFor('frank@example.com')).searchParams.get('token')!
  assert.deepEqual(await signIn({ requestId, validationType: 'token', token }), error('OTP_REQUIRED', '2FA is enabled. OTP token is required'))
  assert.deepEqual(await signIn({ requestId, validationType: 'token', token, mfaOtp: '000000' === confirmed ? '111111' : '000000' }), error('INVALID_OTP_TOKEN', 'OTP token validation has failed'))
  assert.deepEqual(await signIn({ requestId, validationType: 'token', token, mfaOtp: confirmed }), error('INVALID_OTP_TOKEN', 'OTP token validation has failed'), 'the code used by confirmOtp is spent')
  assert.deepEqual(await signIn({ requestId, validationType: 'token', token, mfaOtp: code(-1) }), error('INVALID_OTP_TOKEN', 'OTP token validation has failed'), 'an older step is refused')
  const next = code(1)
  const signedIn = await signIn({ requestId, validationType: 'token', token, mfaOtp: next })
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))

  const second = (await init('frank@example.com')).result.requestId
  const secondToken = (await linkFor('frank@example.com', 2)).searchParams.get('token')!
  assert.equal((await signIn({ requestId: second, validationType: 'token', token: secondToken, mfaOtp: next })).error.code, 'INVALID_OTP_TOKEN', 'replay of a spent code')
})

test('mail project and variant: the only project, else mailProject among the person\'s projects; variants do not fall back', async () => {
  const db = server.runtime.ctx.db
  const grace = await seedPerson('grace@example.com')
  const [one, two] = await db.insert(project).values([{ slug: 'pl-one', name: 'One' }, { slug: 'pl-two', name: 'Two' }]).returning({ id: project.id })
  await db.insert(mailTemplate).values([
    { projectId: one.id, mailType: 'passwordlessSignIn', variant: '', subject: 'One {{projectSlug}}', content: '<p>one {{project}}</p>', useLayout: false },
    { projectId: two.id, mailType: 'passwordlessSignIn', variant: '', subject: 'Two {{projectSlug}}', content: '<p>two {{project}}</p>', useLayout: false },
    { projectId: two.id, mailType: 'passwordlessSignIn', variant: 'cs', subject: 'Přihlášení {{projectSlug}}', content: '<p>cs</p>', useLayout: false },
  ])
  await db.insert(projectMembership).values({ projectId: one.id, identityId: grace.identityId, role: 'editor' })
  await init('grace@example.com', { mailProject: 'pl-two' })
  assert.equal((await mailFor('grace@example.com', 1)).subject, 'One pl-one', 'the only project wins over mailProject')

  await db.insert(projectMembership).values({ projectId: two.id, identityId: grace.identityId, role: 'editor' })
  await init('grace@example.com', { mailProject: 'pl-two' })
  assert.equal((await mailFor('grace@example.com', 2)).subject, 'Two pl-two')
  await init('grace@example.com', { mailProject: 'pl-two', mailVariant: 'cs' })
  assert.equal((await mailFor('grace@example.com', 3)).subject, 'Přihlášení pl-two')
  await init('grace@example.com')
  assert.equal((await mailFor('grace@example.com', 4)).subject, 'Sign in here', 'two projects and no mailProject: no project')
  await init('grace@example.com', { mailProject: 'pl-one', mailVariant: 'cs' })
  assert.equal((await mailFor('grace@example.com', 5)).subject, 'Sign in here', 'no cs variant for pl-one and no fallback to its default variant')
})

test('without a configured URL the default mail says so; the request still works with the token', async () => {
  await configure({ enabled: 'always', url: null })
  await seedPerson('heidi@example.com')
  const started = await init('heidi@example.com')
  assert.equal(started.ok, true)
  const mail = await mailFor('heidi@example.com')
  assert.match(mail.html, /misconfigured/)
  assert.doesNotMatch(mail.html, /href=/)
  await configure({ enabled: 'always', url: 'https://app.example.com/sign-in?keep=1' })
})

test('permissions: only the login token (or super_admin) may request and complete passwordless sign-in', async () => {
  const ivan = await seedPerson('ivan@example.com')
  const cases = [
    ['initSignInPasswordless', INIT, { email: 'ivan@example.com' }, 'You are not allowed to request passwordless sign in'],
    ['activatePasswordlessOtp', ACTIVATE, { requestId: randomUUID(), token: 'x', otpHash: 'y' }, 'You are not allowed to activate passwordless OTP'],
    ['signInPasswordless', SIGN_IN, { requestId: randomUUID(), validationType: 'token', token: 'x' }, 'You are not allowed to sign in using passwordless'],
  ] as const
  for (const [field, query, variables, message] of cases) {
    const response = await gql(server.url, ivan.token, query, variables)
    assert.equal(response.status, 200)
    assert.deepEqual(response.body.data, { [field]: null })
    assert.equal(response.body.errors[0].message, message)
    assert.deepEqual(response.body.errors[0].extensions, { code: 'ForbiddenError' })
  }
  assert.equal(sink.mailsTo('ivan@example.com').length, 0)
})

test('audit: each step writes its event, success and failure, never the token', async () => {
  const rows = await server.runtime.database.rows<{ type: string, success: boolean, error_code: string | null, event_data: unknown }>(
    sql`select type, success, error_code, event_data from audit_event where type like 'passwordless%'`)
  const types = new Set(rows.map((row) => `${row.type}:${row.success}`))
  for (const expected of ['passwordless_login_init:true', 'passwordless_login_init:false', 'passwordless_login_exchange:true',
    'passwordless_login_exchange:false', 'passwordless_login:true', 'passwordless_login:false']) assert.ok(types.has(expected), expected)
  assert.doesNotMatch(JSON.stringify(rows), /[0-9a-f]{40}(?![0-9a-f])/, 'no 40-hex token in any audit event')
})
