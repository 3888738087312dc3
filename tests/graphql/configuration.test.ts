/** configuration and configure: defaults, partial updates, explicit nulls, validation, permissions, audit. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, globalKey, personSession } from '../helpers/accounts.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server.close() })

const READ = '{ configuration { passwordless { enabled url expirationMinutes } } }'
const CONFIGURE = 'mutation($config: ConfigInput!) { configure(config: $config) { ok error { code developerMessage } } }'
const read = async (token = ROOT_TOKEN) => (await gql(server.url, token, READ)).body.data.configuration.passwordless

test('a fresh database has Contember\'s defaults: never, no URL, 5 minutes', async () => {
  assert.deepEqual(await read(), { enabled: 'never', url: null, expirationMinutes: 5 })
})

test('configure is a partial update: omitted fields are kept, an explicit null URL is cleared', async () => {
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { enabled: 'optIn', url: 'https://app.example.com/magic', expirationMinutes: 15 } } })).body,
    { data: { configure: { ok: true, error: null } } })
  assert.deepEqual(await read(), { enabled: 'optIn', url: 'https://app.example.com/magic', expirationMinutes: 15 })
  await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { enabled: 'always' } } })
  assert.deepEqual(await read(), { enabled: 'always', url: 'https://app.example.com/magic', expirationMinutes: 15 })
  await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { url: null } } })
  assert.deepEqual(await read(), { enabled: 'always', url: null, expirationMinutes: 15 })
  assert.equal((await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: {} })).body.data.configure.ok, true)
  assert.deepEqual(await read(), { enabled: 'always', url: null, expirationMinutes: 15 })
})

test('values that would break passwordless sign-in are INVALID_CONFIG (Contember accepted them)', async () => {
  const before = await read()
  for (const passwordless of [{ expirationMinutes: 0 }, { expirationMinutes: -5 }, { enabled: null }, { expirationMinutes: null }, { url: 'javascript:alert(1)' }]) {
    const response = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless } })
    assert.equal(response.body.data.configure.ok, false, JSON.stringify(passwordless))
    assert.equal(response.body.data.configure.error.code, 'INVALID_CONFIG')
    assert.match(response.body.data.configure.error.developerMessage, /^Invalid configuration: passwordless\./)
  }
  assert.deepEqual(await read(), before, 'nothing was written')
  const badEnum = await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { enabled: 'sometimes' } } })
  assert.equal(badEnum.status, 400)
})

test('permissions: global project_admin may view and configure; person, login and project_creator may not', async () => {
  const admin = await personSession(server.url, ['project_admin'])
  assert.ok(await read(admin.token))
  assert.equal((await gql(server.url, admin.token, CONFIGURE, { config: { passwordless: { expirationMinutes: 10 } } })).body.data.configure.ok, true)
  const person = await personSession(server.url)
  const creator = await globalKey(server.url, ['project_creator'])
  for (const token of [person.token, LOGIN_TOKEN, creator.token]) {
    // `configuration` is a non-null root field: Contember answers 400 with data null.
    assertForbidden(await gql(server.url, token, READ), 'configuration', 'You are not allowed to view configuration', 400)
    assertForbidden(await gql(server.url, token, CONFIGURE, { config: { passwordless: { expirationMinutes: 10 } } }), 'configure', 'You are not allowed to configure')
  }
})

test('configure is audited as tenant_config_change with the input, before and after', async () => {
  await gql(server.url, ROOT_TOKEN, CONFIGURE, { config: { passwordless: { expirationMinutes: 42 } } })
  const [event] = await server.runtime.database.rows<{ event_data: any }>(sql`select event_data from audit_event where type = 'tenant_config_change' order by created_at desc, seq desc limit 1`)
  assert.deepEqual(event.event_data.input, { passwordless: { expirationMinutes: 42 } })
  assert.equal(event.event_data.after.passwordless.expirationMinutes, 42)
  assert.notEqual(event.event_data.before.passwordless.expirationMinutes, 42)
})
