/**
 * Auth policies enforced at sign-in, MFA part: mfaRequired for a person without a second factor
 * (MFA_ENROLLMENT_REQUIRED with a provisioned TOTP secret, enrollment by signing in again with
 * its code), the grace window from the person's first sign-in, configure's default grace,
 * project-scoped policies, the usual OTP flow for a person who has a factor, MFA_REQUIRED on
 * disabling the last factor, passwordless and createSessionToken. The server's clock is moved
 * by the test; TOTP codes come from otplib at that clock.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { authenticator } from 'otplib'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { createPerson, signInToken, type TestPerson } from '../helpers/accounts.js'
import { MINUTE, trackedPolicies, movableClock, uniqueRole } from '../helpers/auth-policies.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'

const time = movableClock()
let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ clock: time.clock, env: { SMTP_URL: sink.smtpUrl } })
  const config = { acl: { roles: { editor: {}, viewer: {} } } }
  const created = await gql(server.url, ROOT_TOKEN, 'mutation($config: Json) { createProject(projectSlug: "mfa-shop", name: "Shop", config: $config) { ok } }', { config })
  assert.equal(created.body.data.createProject.ok, true)
})
after(async () => {
  await server.close()
  await sink.close()
})

const { create: policy, remove: removePolicy } = trackedPolicies(() => server.url)

const SIGN_IN = `mutation($email: String!, $password: String!, $otpToken: String, $backupCode: String) {
  signIn(email: $email, password: $password, otpToken: $otpToken, backupCode: $backupCode) {
    ok error { code developerMessage mfaEnrollment { otpUri otpSecret } } result { token backupCodes } } }`
const CONFIGURE = 'mutation($config: ConfigInput!) { configure(config: $config) { ok error { code developerMessage } } }'
const AUTH_LOG = 'query($filter: AuthLogFilter) { authLog(filter: $filter) { entries { type success errorCode eventData } } }'

const signIn = async (who: TestPerson, extra: { otpToken?: string, backupCode?: string } = {}) =>
  (await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: who.email, password: who.password, ...extra })).body.data.signIn
/** otplib's code at the server's clock. */
const code = (secret: string) => authenticator.clone({ epoch: time.now() }).generate(secret)
const authLog = async (filter: Record<string, unknown>) => (await gql(server.url, ROOT_TOKEN, AUTH_LOG, { filter })).body.data.authLog.entries

/** Keeps a code request away from the end of a 30 s step (the test and the server must agree on the step). */
async function awayFromStepEdge(): Promise<void> {
  const left = 30_000 - (time.now() % 30_000)
  if (left < 4_000) await new Promise((resolve) => setTimeout(resolve, left + 250))
}

async function enrolledTotp(who: TestPerson): Promise<string> {
  const token = await signInToken(server.url, who.email, who.password)
  const prepared = (await gql(server.url, token, 'mutation { prepareOtp { ok result { otpSecret } } }')).body.data.prepareOtp
  await awayFromStepEdge()
  const confirmed = (await gql(server.url, token, 'mutation($t: String!) { confirmOtp(otpToken: $t) { ok } }', { t: code(prepared.result.otpSecret) })).body.data.confirmOtp
  assert.equal(confirmed.ok, true)
  time.advance(30_000)
  return prepared.result.otpSecret
}

test('mfaRequired, no grace: MFA_ENROLLMENT_REQUIRED with a fresh secret each time; signIn with its code enrolls and returns backup codes', async () => {
  const role = uniqueRole('mfa')
  const alice = await createPerson(server.url, { roles: [role] })
  assert.equal((await signIn(alice)).ok, true, 'no policy yet: sign-in as always')
  const policyId = await policy({ scope: 'global', roles: [role], mfaRequired: true })

  const first = await signIn(alice)
  assert.equal(first.ok, false)
  assert.equal(first.result, null)
  assert.equal(first.error.code, 'MFA_ENROLLMENT_REQUIRED')
  const { otpUri, otpSecret } = first.error.mfaEnrollment
  assert.match(otpSecret, /^[A-Z2-7]{32}$/)
  assert.equal(otpUri, `otpauth://totp/Contember:${encodeURIComponent(alice.email)}?issuer=Contember&secret=${otpSecret}&algorithm=SHA1&digits=6&period=30`)

  const second = await signIn(alice)
  const secret = second.error.mfaEnrollment.otpSecret
  assert.notEqual(secret, otpSecret, 'each refusal provisions a new secret')
  await awayFromStepEdge()
  const stale = await signIn(alice, { otpToken: code(otpSecret) })
  assert.deepEqual([stale.error.code, stale.error.mfaEnrollment], ['INVALID_OTP_TOKEN', null], 'the replaced secret no longer enrolls')
  assert.equal((await signIn(alice, { backupCode: 'aaaaa-bbbbb' })).error.code, 'MFA_ENROLLMENT_REQUIRED', 'a backup code is no enrollment')

  const latest = (await signIn(alice)).error.mfaEnrollment.otpSecret
  await awayFromStepEdge()
  const enrolled = await signIn(alice, { otpToken: code(latest) })
  assert.equal(enrolled.ok, true, JSON.stringify(enrolled))
  assert.equal(enrolled.result.backupCodes.length, 10)
  for (const backup of enrolled.result.backupCodes) assert.match(backup, /^[a-z2-9]{5}-[a-z2-9]{5}$/)
  assert.equal((await gql(server.url, enrolled.result.token, '{ me { person { otpEnabled } } }')).body.data.me.person.otpEnabled, true)

  // Enrolled: the ordinary second-factor flow, no backup codes on a normal sign-in.
  assert.equal((await signIn(alice)).error.code, 'OTP_REQUIRED')
  time.advance(30_000)
  const normal = await signIn(alice, { otpToken: code(latest) })
  assert.deepEqual([normal.ok, normal.result.backupCodes], [true, null])
  assert.equal((await signIn(alice, { backupCode: enrolled.result.backupCodes[0] })).ok, true)

  const required = await authLog({ types: ['mfa_enrollment_required'], personId: alice.personId })
  assert.equal(required.length, 4)
  assert.deepEqual(required[0].eventData, { policyIds: [policyId], secretProvisioned: true })
  const refused = await authLog({ types: ['login'], personId: alice.personId, success: false })
  assert.deepEqual(refused.map((e: any) => e.errorCode).sort(), ['INVALID_OTP_TOKEN', 'MFA_ENROLLMENT_REQUIRED', 'MFA_ENROLLMENT_REQUIRED', 'MFA_ENROLLMENT_REQUIRED', 'MFA_ENROLLMENT_REQUIRED', 'OTP_REQUIRED'])
  const enabled = await authLog({ types: ['2fa_enable'], personId: alice.personId })
  assert.equal(enabled[0].eventData.enrolledAtSignIn, true)
})

test('grace counts from each person\'s first sign-in under the policy, not from the policy\'s creation', async () => {
  const role = uniqueRole('grace')
  await policy({ scope: 'global', roles: [role], mfaRequired: true, mfaGraceDuration: 'PT1H' })
  const early = await createPerson(server.url, { roles: [role] })
  const opened = await signIn(early)
  assert.deepEqual([opened.ok, opened.result.backupCodes], [true, null])
  const [login] = await authLog({ types: ['login'], personId: early.personId, success: true })
  const graceLeft = Date.parse(login.eventData.mfaGraceUntil) - time.now()
  assert.ok(graceLeft > 59 * MINUTE && graceLeft <= 60 * MINUTE, `the window opened at this sign-in: ${graceLeft} ms left`)

  time.advance(50 * MINUTE)
  assert.equal((await signIn(early)).ok, true, 'inside the window')
  const late = await createPerson(server.url, { roles: [role] })
  time.advance(15 * MINUTE)
  assert.equal((await signIn(early)).error.code, 'MFA_ENROLLMENT_REQUIRED', 'the window closed an hour after the first sign-in')
  assert.equal((await signIn(late)).ok, true, 'a person first signing in now has the whole window')
  time.advance(59 * MINUTE)
  assert.equal((await signIn(late)).ok, true)
  time.advance(2 * MINUTE)
  assert.equal((await signIn(late)).error.code, 'MFA_ENROLLMENT_REQUIRED')
})

test('without a grace on the policy, configure\'s login.mfaGraceDuration applies', async () => {
  const role = uniqueRole('cfg')
  await policy({ scope: 'global', roles: [role], mfaRequired: true })
  assert.equal((await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { login: { mfaGraceDuration: 'PT10M' } } })).body.data.configure.ok, true)
  try {
    const bob = await createPerson(server.url, { roles: [role] })
    assert.equal((await signIn(bob)).ok, true)
    time.advance(11 * MINUTE)
    assert.equal((await signIn(bob)).error.code, 'MFA_ENROLLMENT_REQUIRED')
  } finally {
    assert.equal((await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { login: { mfaGraceDuration: 'PT0S' } } })).body.data.configure.ok, true)
  }
})

test('a project policy applies to that project\'s members with the role only; the strictest policy wins', async () => {
  await policy({ scope: 'project', project: 'mfa-shop', roles: ['editor'], mfaRequired: true })
  await policy({ scope: 'global', roles: ['editor'], mfaRequired: false })
  const member = async (role: string, globalRoles: string[] = []) => {
    const created = await createPerson(server.url, { roles: globalRoles })
    const added = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!, $role: String!) { addProjectMember(projectSlug: "mfa-shop", identityId: $id, memberships: [{ role: $role, variables: [] }]) { ok } }',
      { id: created.identityId, role })
    assert.equal(added.body.data.addProjectMember.ok, true)
    return created
  }
  assert.equal((await signIn(await member('editor', ['editor']))).error.code, 'MFA_ENROLLMENT_REQUIRED', 'mfaRequired false elsewhere does not relax it')
  assert.equal((await signIn(await member('viewer'))).ok, true, 'another role in the project')
  assert.equal((await signIn(await createPerson(server.url, { roles: ['editor'] }))).ok, true, 'the role globally, not as a member')
})

test('a person with a factor goes through OTP_REQUIRED as before; disabling the last factor is MFA_REQUIRED', async () => {
  const role = uniqueRole('factor')
  const carol = await createPerson(server.url, { roles: [role] })
  const secret = await enrolledTotp(carol)
  const policyId = await policy({ scope: 'global', roles: [role], mfaRequired: true })
  assert.equal((await signIn(carol)).error.code, 'OTP_REQUIRED')
  await awayFromStepEdge()
  const signedIn = await signIn(carol, { otpToken: code(secret) })
  assert.deepEqual([signedIn.ok, signedIn.result.backupCodes], [true, null])

  const disable = async () => (await gql(server.url, signedIn.result.token, 'mutation { disableOtp { ok error { code developerMessage } } }')).body.data.disableOtp
  assert.deepEqual(await disable(), { ok: false, error: { code: 'MFA_REQUIRED', developerMessage: 'An auth policy requires two-factor authentication: the last active second factor cannot be disabled.' } })
  assert.equal((await gql(server.url, signedIn.result.token, '{ me { person { otpEnabled } } }')).body.data.me.person.otpEnabled, true)
  const [refusal] = await authLog({ types: ['2fa_disable'], personId: carol.personId })
  assert.deepEqual([refusal.success, refusal.errorCode], [false, 'MFA_REQUIRED'])

  // E-mail OTP as the only factor is kept too; with TOTP beside it, it may go.
  const enable = (await gql(server.url, signedIn.result.token, 'mutation { initEmailOtp { ok } }')).body.data.initEmailOtp
  assert.equal(enable.ok, true)
  const [mail] = await sink.waitForMailTo(carol.email, 1)
  const mailed = /<code>(\d{6})<\/code>/.exec(mail.html)![1]
  assert.equal((await gql(server.url, signedIn.result.token, 'mutation($t: String!) { confirmEmailOtp(otpToken: $t) { ok } }', { t: mailed })).body.data.confirmEmailOtp.ok, true)
  const disableEmail = async () => (await gql(server.url, signedIn.result.token, 'mutation { disableEmailOtp { ok error { code } } }')).body.data.disableEmailOtp
  assert.deepEqual(await disable(), { ok: true, error: null }, 'TOTP may go while e-mail OTP stays')
  assert.deepEqual(await disableEmail(), { ok: false, error: { code: 'MFA_REQUIRED' } })

  await removePolicy(policyId)
  assert.deepEqual(await disableEmail(), { ok: true, error: null }, 'without the policy the last factor may go')
})

test('passwordless: MFA_ENROLLMENT_REQUIRED without a secret, the link stays usable; createSessionToken is not held back', async () => {
  const role = uniqueRole('pwless')
  const policyId = await policy({ scope: 'global', roles: [role], mfaRequired: true })
  assert.equal((await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { enabled: 'always', url: 'https://app.example.com/in' } } })).body.data.configure.ok, true)
  const dave = await createPerson(server.url, { roles: [role] })
  const init = await gql(server.url, LOGIN_TOKEN, 'mutation($email: String!) { initSignInPasswordless(email: $email) { ok result { requestId } } }', { email: dave.email })
  assert.equal(init.body.data.initSignInPasswordless.ok, true)
  const [mail] = await sink.waitForMailTo(dave.email, 1)
  const href = /href="([^"]+)"/.exec(mail.html)![1]
  const link = new URL(href.replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(/&amp;/g, '&'))
  const variables = { requestId: link.searchParams.get('request_id'), token: link.searchParams.get('token') }
  const SIGN_IN_PASSWORDLESS = `mutation($requestId: String!, $token: String!) {
    signInPasswordless(requestId: $requestId, validationType: token, token: $token) { ok error { code developerMessage } result { token } } }`
  const refused = (await gql(server.url, LOGIN_TOKEN, SIGN_IN_PASSWORDLESS, variables)).body.data.signInPasswordless
  assert.deepEqual(refused, { ok: false, error: { code: 'MFA_ENROLLMENT_REQUIRED', developerMessage: 'An auth policy requires two-factor authentication: sign in with a password to enroll' }, result: null })
  const [event] = await authLog({ types: ['mfa_enrollment_required'], personId: dave.personId })
  assert.equal(event.eventData.secretProvisioned, false)

  const impersonated = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { createSessionToken(personId: $id) { ok result { token } } }', { id: dave.personId })
  assert.equal(impersonated.body.data.createSessionToken.ok, true, 'the 2.2 schema has no MFA error for createSessionToken')

  await removePolicy(policyId)
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_IN_PASSWORDLESS, variables)).body.data.signInPasswordless.ok, true, 'the refused link was not spent')
})
