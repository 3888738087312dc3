/**
 * The passwordless policy (Contember §7.5): never / always / optIn / optOut from the tenant
 * configuration (set here with the real `configure` mutation), a person's own switch
 * (enable/disableMyPasswordless, CANNOT_TOGGLE under always/never, NOT_A_PERSON), and who may
 * toggle. Mails are counted on a real SMTP sink.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, globalKey, personSession } from '../helpers/accounts.js'

let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl } })
})
after(async () => {
  await server.close()
  await sink.close()
})

const INIT = 'mutation($email: String!) { initSignInPasswordless(email: $email) { ok error { code developerMessage } result { requestId } } }'
const ENABLE = 'mutation { enableMyPasswordless { ok error { code developerMessage } } }'
const DISABLE = 'mutation { disableMyPasswordless { ok error { code developerMessage } } }'

async function setPolicy(enabled: 'never' | 'always' | 'optIn' | 'optOut') {
  const response = await gql(server.url, ROOT_TOKEN, 'mutation($config: ConfigInput!) { configure(config: $config) { ok } }',
    { config: { passwordless: { enabled, url: 'https://app.example.com/login' } } })
  assert.equal(response.body.data.configure.ok, true, JSON.stringify(response.body))
}

const init = async (email: string) => (await gql(server.url, LOGIN_TOKEN, INIT, { email })).body.data.initSignInPasswordless
const toggle = async (token: string, on: boolean) => (await gql(server.url, token, on ? ENABLE : DISABLE)).body.data[on ? 'enableMyPasswordless' : 'disableMyPasswordless']
const passwordlessEnabled = async (token: string) => (await gql(server.url, token, '{ me { person { passwordlessEnabled } } }')).body.data.me.person.passwordlessEnabled
const disabledForPerson = { ok: false, error: { code: 'PASSWORDLESS_DISABLED', developerMessage: 'Passwordless sign-in is disabled for this person' }, result: null }
const cannotToggle = { ok: false, error: { code: 'CANNOT_TOGGLE', developerMessage: 'Passwordless is configured globally and cannot be toggled' } }

test('never (the default): every request refused and nobody may toggle', async () => {
  const person = await personSession(server.url)
  assert.deepEqual(await init(person.email), { ok: false, error: { code: 'PASSWORDLESS_DISABLED', developerMessage: 'Passwordless sign-in is disabled' }, result: null })
  assert.deepEqual(await init('unknown@example.com'), { ok: false, error: { code: 'PASSWORDLESS_DISABLED', developerMessage: 'Passwordless sign-in is disabled' }, result: null },
    'the policy is checked before the person is looked up')
  await setPolicy('never')
  assert.deepEqual(await toggle(person.token, true), cannotToggle)
  assert.deepEqual(await toggle(person.token, false), cannotToggle)
  assert.equal(await passwordlessEnabled(person.token), null)
  assert.equal(sink.mailsTo(person.email).length, 0)
})

test('always: everyone, even a person who switched it off earlier; toggling refused', async () => {
  const person = await personSession(server.url)
  await setPolicy('optOut')
  assert.equal((await toggle(person.token, false)).ok, true)
  await setPolicy('always')
  assert.equal((await init(person.email)).ok, true)
  await sink.waitForMails(1)
  assert.equal(sink.mailsTo(person.email).length, 1)
  assert.deepEqual(await toggle(person.token, true), cannotToggle)
  assert.equal(await passwordlessEnabled(person.token), false, 'a refused toggle changes nothing')
})

test('optIn: off until the person enables it, off again after disabling', async () => {
  await setPolicy('optIn')
  const person = await personSession(server.url)
  assert.deepEqual(await init(person.email), disabledForPerson)
  assert.deepEqual(await toggle(person.token, true), { ok: true, error: null })
  assert.equal(await passwordlessEnabled(person.token), true)
  assert.equal((await init(person.email)).ok, true)
  assert.deepEqual(await toggle(person.token, false), { ok: true, error: null })
  assert.equal(await passwordlessEnabled(person.token), false)
  assert.deepEqual(await init(person.email), disabledForPerson)
})

test('optOut: on until the person disables it, on again after enabling', async () => {
  await setPolicy('optOut')
  const person = await personSession(server.url)
  assert.equal((await init(person.email)).ok, true)
  assert.deepEqual(await toggle(person.token, false), { ok: true, error: null })
  assert.deepEqual(await init(person.email), disabledForPerson)
  assert.deepEqual(await toggle(person.token, true), { ok: true, error: null })
  assert.equal((await init(person.email)).ok, true)
})

test('toggle permissions: NOT_A_PERSON comes before access; a person without the person role is forbidden', async () => {
  await setPolicy('optIn')
  const notAPerson = { ok: false, error: { code: 'NOT_A_PERSON', developerMessage: 'Only a person can toggle passwordless sign-in' } }
  assert.deepEqual(await toggle(LOGIN_TOKEN, true), notAPerson)
  const key = await globalKey(server.url, [])
  assert.deepEqual(await toggle(key.token, false), notAPerson)

  // signUp always adds "person"; take it away to get a person that lacks the grant.
  const person = await personSession(server.url)
  const removed = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { removeGlobalIdentityRoles(identityId: $id, roles: ["person"]) { ok } }', { id: person.identityId })
  assert.equal(removed.body.data.removeGlobalIdentityRoles.ok, true)
  for (const [query, field] of [[ENABLE, 'enableMyPasswordless'], [DISABLE, 'disableMyPasswordless']] as const) {
    assertForbidden(await gql(server.url, person.token, query), field, 'You are not allowed to enable passwordless')
  }
})
