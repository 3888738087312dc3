/** personById, changeProfile, changeMyProfile, changePassword, changeMyPassword, disablePerson. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_EMAIL, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, createPerson, globalKey, personSession, signInToken, uniqueEmail } from '../helpers/accounts.js'

let server: TestServer
before(async () => {
  server = await startTestServer()
  // These tests replay Contember 2.0.8's answers, which reveal unknown e-mails (2.2's revealUserExists, off by default here).
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation { configure(config: { login: { revealUserExists: true } }) { ok } }')).body.data.configure.ok, true)
})
after(async () => { await server.close() })

const PERSON_BY_ID = 'query($id: String!) { personById(id: $id) { id email name otpEnabled passwordlessEnabled identity { id } } }'
const CHANGE_PROFILE = 'mutation($personId: String!, $email: String, $name: String) { changeProfile(personId: $personId, email: $email, name: $name) { ok error { code developerMessage } } }'
const CHANGE_MY_PROFILE = 'mutation($email: String, $name: String) { changeMyProfile(email: $email, name: $name) { ok error { code developerMessage } } }'
const CHANGE_PASSWORD = 'mutation($personId: String!, $password: String!) { changePassword(personId: $personId, password: $password) { ok error { code developerMessage } errors { code } } }'
const CHANGE_MY_PASSWORD = 'mutation($current: String!, $next: String!) { changeMyPassword(currentPassword: $current, newPassword: $next) { ok error { code developerMessage } } }'
const DISABLE = 'mutation($id: String!) { disablePerson(personId: $id) { ok error { code developerMessage } } }'
const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code } } }'
const ME = '{ me { id person { email name } } }'

const rootPersonId = async () => (await gql(server.url, ROOT_TOKEN, '{ me { person { id } } }')).body.data.me.person.id

test('personById: any person, project_admin or super_admin reads it; login and keys without person get null', async () => {
  const alice = await createPerson(server.url, { name: 'Alice' })
  const bob = await personSession(server.url)
  const expected = { id: alice.personId, email: alice.email, name: 'Alice', otpEnabled: false, passwordlessEnabled: null, identity: { id: alice.identityId } }
  for (const token of [ROOT_TOKEN, bob.token]) {
    const response = await gql(server.url, token, PERSON_BY_ID, { id: alice.personId })
    assert.deepEqual(response.body, { data: { personById: expected } })
  }
  const creator = await globalKey(server.url, ['project_creator'])
  for (const token of [LOGIN_TOKEN, creator.token]) {
    assert.deepEqual((await gql(server.url, token, PERSON_BY_ID, { id: alice.personId })).body, { data: { personById: null } })
  }
  for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, PERSON_BY_ID, { id })).body, { data: { personById: null } })
  }
})

test('changeProfile: name, "" clears it, e-mail stored normalized (Contember stored it verbatim) and usable for sign-in', async () => {
  const alice = await createPerson(server.url)
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId: alice.personId, name: 'Alice A.' })).body, { data: { changeProfile: { ok: true, error: null } } })
  const raw = ` New.${Date.now()}@Example.com `
  assert.equal((await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId: alice.personId, email: raw })).body.data.changeProfile.ok, true)
  const normalized = raw.trim().toLowerCase()
  const read = await gql(server.url, ROOT_TOKEN, PERSON_BY_ID, { id: alice.personId })
  assert.equal(read.body.data.personById.email, normalized)
  assert.equal(read.body.data.personById.name, 'Alice A.')
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: normalized, password: alice.password })).body.data.signIn.ok, true)
  await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId: alice.personId, name: '' })
  assert.equal((await gql(server.url, ROOT_TOKEN, PERSON_BY_ID, { id: alice.personId })).body.data.personById.name, null)
})

test('changeProfile errors: PERSON_NOT_FOUND (also for malformed ids), null e-mail, invalid, taken', async () => {
  for (const personId of ['00000000-0000-0000-0000-000000000000', 'nope']) {
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId, name: 'x' })).body.data.changeProfile,
      { ok: false, error: { code: 'PERSON_NOT_FOUND', developerMessage: 'Person not found' } })
  }
  const alice = await createPerson(server.url)
  const bob = await createPerson(server.url)
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId: alice.personId, email: null })).body.data.changeProfile,
    { ok: false, error: { code: 'INVALID_EMAIL_FORMAT', developerMessage: 'E-mail address cannot be null.' } })
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId: alice.personId, email: 'broken' })).body.data.changeProfile,
    { ok: false, error: { code: 'INVALID_EMAIL_FORMAT', developerMessage: 'E-mail address is not in a valid format' } })
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId: alice.personId, email: bob.email.toUpperCase() })).body.data.changeProfile,
    { ok: false, error: { code: 'EMAIL_ALREADY_EXISTS', developerMessage: `User with email ${bob.email.toUpperCase()} already exists` } })
  assert.equal((await gql(server.url, ROOT_TOKEN, CHANGE_PROFILE, { personId: alice.personId, email: alice.email.toUpperCase() })).body.data.changeProfile.ok, true, 'own address in another case is no conflict')
})

test('changeProfile permissions: project_admin not on super_admin/project_creator; person, login denied', async () => {
  const admin = await personSession(server.url, ['project_admin'])
  const plain = await createPerson(server.url)
  const creator = await createPerson(server.url, { roles: ['project_creator'] })
  assert.equal((await gql(server.url, admin.token, CHANGE_PROFILE, { personId: plain.personId, name: 'By admin' })).body.data.changeProfile.ok, true)
  assertForbidden(await gql(server.url, admin.token, CHANGE_PROFILE, { personId: creator.personId, name: 'x' }), 'changeProfile', 'You are not allowed to change a profile')
  assertForbidden(await gql(server.url, admin.token, CHANGE_PROFILE, { personId: await rootPersonId(), name: 'x' }), 'changeProfile', 'You are not allowed to change a profile')
  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, CHANGE_PROFILE, { personId: plain.personId, name: 'x' }), 'changeProfile', 'You are not allowed to change a profile')
  assertForbidden(await gql(server.url, LOGIN_TOKEN, CHANGE_PROFILE, { personId: plain.personId, name: 'x' }), 'changeProfile', 'You are not allowed to change a profile')
  // PERSON_NOT_FOUND comes before the access check, as Contember.
  assert.equal((await gql(server.url, person.token, CHANGE_PROFILE, { personId: '00000000-0000-0000-0000-000000000000' })).body.data.changeProfile.error.code, 'PERSON_NOT_FOUND')
})

test('changeMyProfile: the bug case "ED4new@Example.com " is stored normalized and signs in; errors', async () => {
  const alice = await personSession(server.url)
  const raw = `ED4new.${Date.now()}@Example.com `
  assert.deepEqual((await gql(server.url, alice.token, CHANGE_MY_PROFILE, { email: raw, name: 'Ed' })).body, { data: { changeMyProfile: { ok: true, error: null } } })
  const normalized = raw.trim().toLowerCase()
  assert.deepEqual((await gql(server.url, alice.token, ME)).body.data.me.person, { email: normalized, name: 'Ed' })
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: normalized, password: alice.password })).body.data.signIn.ok, true)

  assert.deepEqual((await gql(server.url, alice.token, CHANGE_MY_PROFILE, { email: null })).body.data.changeMyProfile,
    { ok: false, error: { code: 'INVALID_EMAIL_FORMAT', developerMessage: 'E-mail address cannot be null.' } })
  assert.deepEqual((await gql(server.url, alice.token, CHANGE_MY_PROFILE, { email: ROOT_EMAIL })).body.data.changeMyProfile,
    { ok: false, error: { code: 'EMAIL_ALREADY_EXISTS', developerMessage: `User with email ${ROOT_EMAIL} already exists` } })
  const key = await globalKey(server.url, ['project_admin'])
  assert.deepEqual((await gql(server.url, key.token, CHANGE_MY_PROFILE, { name: 'x' })).body.data.changeMyProfile,
    { ok: false, error: { code: 'NOT_A_PERSON', developerMessage: 'Only a person can change a profile.' } })
  assert.equal((await gql(server.url, LOGIN_TOKEN, CHANGE_MY_PROFILE, { name: 'x' })).body.data.changeMyProfile.error.code, 'NOT_A_PERSON')
})

test('changeMyProfile: a person whose roles lack `person` is denied', async () => {
  const alice = await personSession(server.url)
  await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { removeGlobalIdentityRoles(identityId: $id, roles: ["person"]) { ok } }', { id: alice.identityId })
  assertForbidden(await gql(server.url, alice.token, CHANGE_MY_PROFILE, { name: 'x' }), 'changeMyProfile', 'You are not allowed to change profile')
  assertForbidden(await gql(server.url, alice.token, CHANGE_MY_PASSWORD, { current: alice.password, next: 'Another-Password-1' }), 'changeMyPassword', 'You are not allowed to change password')
})

test('changePassword: sets the password, ends the target\'s sessions; TOO_WEAK and PERSON_NOT_FOUND; permissions', async () => {
  const alice = await personSession(server.url)
  const ok = await gql(server.url, ROOT_TOKEN, CHANGE_PASSWORD, { personId: alice.personId, password: 'Brand-New-Pass-1' })
  assert.deepEqual(ok.body, { data: { changePassword: { ok: true, error: null, errors: [] } } })
  assert.equal((await gql(server.url, alice.token, ME)).status, 401, 'the old session ended')
  assert.equal((await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: alice.email, password: alice.password })).body.data.signIn.error.code, 'INVALID_PASSWORD')
  await signInToken(server.url, alice.email, 'Brand-New-Pass-1')

  assert.deepEqual((await gql(server.url, ROOT_TOKEN, CHANGE_PASSWORD, { personId: alice.personId, password: 'short' })).body.data.changePassword,
    { ok: false, error: { code: 'TOO_WEAK', developerMessage: 'Password is too weak. Minimum length is 8' }, errors: [{ code: 'TOO_WEAK' }] })
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, CHANGE_PASSWORD, { personId: 'x', password: 'Brand-New-Pass-1' })).body.data.changePassword,
    { ok: false, error: { code: 'PERSON_NOT_FOUND', developerMessage: 'Person not found' }, errors: [{ code: 'PERSON_NOT_FOUND' }] })
  assert.equal((await gql(server.url, ROOT_TOKEN, CHANGE_PASSWORD, { personId: alice.personId, password: 'é'.repeat(65) })).body.data.changePassword.error.developerMessage,
    'Password is too long. Maximum length is 128 bytes')

  const admin = await personSession(server.url, ['project_admin'])
  assert.equal((await gql(server.url, admin.token, CHANGE_PASSWORD, { personId: alice.personId, password: 'By-Admin-Pass-1' })).body.data.changePassword.ok, true)
  assertForbidden(await gql(server.url, admin.token, CHANGE_PASSWORD, { personId: await rootPersonId(), password: 'By-Admin-Pass-1' }), 'changePassword', 'You are not allowed to change password')
  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, CHANGE_PASSWORD, { personId: alice.personId, password: 'By-Admin-Pass-1' }), 'changePassword', 'You are not allowed to change password')
})

test('transcript 27 and changeMyPassword: order TOO_WEAK, NO_PASSWORD_SET, INVALID_PASSWORD; other sessions end, this one stays', async () => {
  const alice = await personSession(server.url)
  const wrong = await gql(server.url, alice.token, 'mutation { changeMyPassword(currentPassword: "nope-nope-nope", newPassword: "AnotherPassword123") { ok error { code developerMessage } } }')
  assert.deepEqual(wrong.body, { data: { changeMyPassword: { ok: false, error: { code: 'INVALID_PASSWORD', developerMessage: 'Password does not match' } } } })
  assert.deepEqual((await gql(server.url, alice.token, CHANGE_MY_PASSWORD, { current: 'nope-nope-nope', next: 'abc' })).body.data.changeMyPassword,
    { ok: false, error: { code: 'TOO_WEAK', developerMessage: 'Password is too weak. Minimum length is 8' } })

  const other = await signInToken(server.url, alice.email, alice.password)
  assert.deepEqual((await gql(server.url, alice.token, CHANGE_MY_PASSWORD, { current: alice.password, next: 'AnotherPassword123' })).body.data.changeMyPassword, { ok: true, error: null })
  assert.equal((await gql(server.url, alice.token, ME)).status, 200)
  assert.equal((await gql(server.url, other, ME)).status, 401)
  await signInToken(server.url, alice.email, 'AnotherPassword123')

  const email = uniqueEmail('nopass')
  await gql(server.url, ROOT_TOKEN, 'mutation($email: String!) { signUp(email: $email) { ok } }', { email })
  const session = (await gql(server.url, ROOT_TOKEN, 'mutation($email: String!) { createSessionToken(email: $email) { result { token } } }', { email })).body.data.createSessionToken.result.token
  assert.deepEqual((await gql(server.url, session, CHANGE_MY_PASSWORD, { current: 'whatever', next: 'AnotherPassword123' })).body.data.changeMyPassword,
    { ok: false, error: { code: 'NO_PASSWORD_SET', developerMessage: 'No password set' } })
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, CHANGE_MY_PASSWORD, { current: 'whatever', next: 'AnotherPassword123' })).body.data.changeMyPassword,
    { ok: false, error: { code: 'NOT_A_PERSON', developerMessage: 'Only a person can change a password' } })
})

test('disablePerson: disables the person and every key of its identity; errors; permissions', async () => {
  const alice = await personSession(server.url)
  const second = await signInToken(server.url, alice.email, alice.password)
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, DISABLE, { id: alice.personId })).body, { data: { disablePerson: { ok: true, error: null } } })
  for (const token of [alice.token, second]) assert.equal((await gql(server.url, token, ME)).status, 401)
  const [row] = await server.runtime.database.rows<{ active: number }>(sql`select count(*)::int as active from api_key where identity_id = ${alice.identityId} and disabled_at is null`)
  assert.equal(row.active, 0)
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, DISABLE, { id: alice.personId })).body.data.disablePerson,
    { ok: false, error: { code: 'PERSON_ALREADY_DISABLED', developerMessage: 'Person is already disable' } })
  for (const id of ['00000000-0000-0000-0000-000000000000', 'garbage']) {
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, DISABLE, { id })).body.data.disablePerson,
      { ok: false, error: { code: 'PERSON_NOT_FOUND', developerMessage: `Person <${id}> was not found` } })
  }

  const admin = await personSession(server.url, ['project_admin'])
  const plain = await createPerson(server.url)
  assert.equal((await gql(server.url, admin.token, DISABLE, { id: plain.personId })).body.data.disablePerson.ok, true)
  assertForbidden(await gql(server.url, admin.token, DISABLE, { id: await rootPersonId() }), 'disablePerson', 'You are not allowed to disable person account')
  const person = await personSession(server.url)
  const target = await createPerson(server.url)
  assertForbidden(await gql(server.url, person.token, DISABLE, { id: target.personId }), 'disablePerson', 'You are not allowed to disable person account')
  const [audit] = await server.runtime.database.rows<{ event_data: { disabledKeys: number } }>(sql`select event_data from audit_event where type = 'person_disable' and target_person_id = ${alice.personId} and success`)
  assert.deepEqual(audit.event_data, { disabledKeys: 2 })
})
