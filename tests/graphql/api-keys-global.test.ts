/** createGlobalApiKey, disableApiKey, addGlobalIdentityRoles, removeGlobalIdentityRoles (transcript §E/§F). */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, createPerson, globalKey, personSession, signInToken } from '../helpers/accounts.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server.close() })

const CREATE = 'mutation($description: String!, $roles: [String!], $tokenHash: String) { createGlobalApiKey(description: $description, roles: $roles, tokenHash: $tokenHash) { ok error { code developerMessage } errors { code } result { apiKey { id token identity { id roles description } } } } }'
const DISABLE = 'mutation($id: String!) { disableApiKey(id: $id) { ok error { code developerMessage } errors { code } } }'
const ADD = 'mutation($id: String!, $roles: [String!]!) { addGlobalIdentityRoles(identityId: $id, roles: $roles) { ok error { code developerMessage } result { identity { id roles } } } }'
const REMOVE = 'mutation($id: String!, $roles: [String!]!) { removeGlobalIdentityRoles(identityId: $id, roles: $roles) { ok error { code developerMessage } result { identity { id roles } } } }'
const ME = '{ me { id roles permissions { canCreateProject } } }'

test('transcript 35: createGlobalApiKey with the root token; the key authenticates with its roles', async () => {
  const response = await gql(server.url, ROOT_TOKEN, 'mutation { createGlobalApiKey(description: "global bench key", roles: ["project_creator"]) { ok error { code developerMessage } result { apiKey { id token identity { id roles } } } } }')
  const apiKey = response.body.data.createGlobalApiKey.result.apiKey
  assert.match(apiKey.token, /^[0-9a-f]{40}$/)
  assert.deepEqual(response.body, { data: { createGlobalApiKey: { ok: true, error: null, result: { apiKey: { id: apiKey.id, token: apiKey.token, identity: { id: apiKey.identity.id, roles: ['project_creator'] } } } } } })
  const me = await gql(server.url, apiKey.token, ME)
  assert.deepEqual(me.body.data.me, { id: apiKey.identity.id, roles: ['project_creator'], permissions: { canCreateProject: true } })
  const [stored] = await server.runtime.database.rows<{ type: string, expires_at: unknown, description: string }>(
    sql`select k.type, k.expires_at, i.description from api_key k join identity i on i.id = k.identity_id where k.id = ${apiKey.id}`)
  assert.deepEqual(stored, { type: 'permanent', expires_at: null, description: 'global bench key' })
})

test('createGlobalApiKey with tokenHash: no token returned, the caller\'s token works; bad or reused hashes are UserInputErrors', async () => {
  const token = 'ab'.repeat(20)
  const tokenHash = createHash('sha256').update(token).digest('hex')
  const response = await gql(server.url, ROOT_TOKEN, CREATE, { description: 'hashed', tokenHash })
  assert.equal(response.body.data.createGlobalApiKey.ok, true)
  assert.equal(response.body.data.createGlobalApiKey.result.apiKey.token, null)
  assert.equal(response.body.data.createGlobalApiKey.result.apiKey.identity.description, 'hashed')
  assert.deepEqual(response.body.data.createGlobalApiKey.errors, [])
  assert.equal((await gql(server.url, token, ME)).status, 200)

  const reused = await gql(server.url, ROOT_TOKEN, CREATE, { description: 'again', tokenHash })
  assert.equal(reused.body.data.createGlobalApiKey, null)
  assert.equal(reused.body.errors[0].extensions.code, 'UserInputError')
  for (const bad of ['ABCD', tokenHash.toUpperCase()]) {
    const invalid = await gql(server.url, ROOT_TOKEN, CREATE, { description: 'bad', tokenHash: bad })
    assert.deepEqual(invalid.body.errors.map((e: any) => [e.message, e.extensions.code]), [['Invalid format of tokenHash. Must be hex-encoded sha256.', 'UserInputError']])
  }
})

test('createGlobalApiKey permissions: project_admin only with login/project_admin/entrypoint_deployer', async () => {
  const admin = await personSession(server.url, ['project_admin'])
  const allowed = await gql(server.url, admin.token, CREATE, { description: 'deployer', roles: ['entrypoint_deployer'] })
  assert.equal(allowed.body.data.createGlobalApiKey.ok, true)
  assertForbidden(await gql(server.url, admin.token, CREATE, { description: 'x', roles: ['super_admin'] }), 'createGlobalApiKey', 'You are not allowed to create a global API key')
  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, CREATE, { description: 'x' }), 'createGlobalApiKey', 'You are not allowed to create a global API key')
  assertForbidden(await gql(server.url, LOGIN_TOKEN, CREATE, { description: 'x' }), 'createGlobalApiKey', 'You are not allowed to create a global API key')
})

test('transcript 46-48: disableApiKey, then 401 for that key; unknown and malformed ids are KEY_NOT_FOUND', async () => {
  const key = await globalKey(server.url, [])
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, DISABLE, { id: key.apiKeyId })).body, { data: { disableApiKey: { ok: true, error: null, errors: [] } } })
  const after = await gql(server.url, key.token, '{ me { id } }')
  assert.equal(after.status, 401)
  assert.match(after.body.errors[0].message, /^Authorization failure: API key was disabled at /)
  const unknown = await gql(server.url, ROOT_TOKEN, 'mutation { disableApiKey(id: "00000000-0000-0000-0000-000000000000") { ok error { code developerMessage } } }')
  assert.deepEqual(unknown.body, { data: { disableApiKey: { ok: false, error: { code: 'KEY_NOT_FOUND', developerMessage: 'API key not found' } } } })
  assert.equal((await gql(server.url, ROOT_TOKEN, DISABLE, { id: 'garbage' })).body.data.disableApiKey.error.code, 'KEY_NOT_FOUND')
})

test('disableApiKey takes any key (another person\'s session too); global project_admin allowed, person and login denied', async () => {
  const alice = await personSession(server.url)
  const [session] = await server.runtime.database.rows<{ id: string }>(sql`select id from api_key where identity_id = ${alice.identityId} and type = 'session'`)
  const admin = await personSession(server.url, ['project_admin'])
  assert.equal((await gql(server.url, admin.token, DISABLE, { id: session.id })).body.data.disableApiKey.ok, true)
  assert.equal((await gql(server.url, alice.token, '{ me { id } }')).status, 401)
  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, DISABLE, { id: session.id }), 'disableApiKey', 'You are not allowed to disable api key')
  assertForbidden(await gql(server.url, LOGIN_TOKEN, DISABLE, { id: session.id }), 'disableApiKey', 'You are not allowed to disable api key')
})

test('addGlobalIdentityRoles / removeGlobalIdentityRoles: distinct union, removal, and the session sees the new roles', async () => {
  const alice = await createPerson(server.url)
  const added = await gql(server.url, ROOT_TOKEN, ADD, { id: alice.identityId, roles: ['project_creator', 'person'] })
  assert.deepEqual(added.body, { data: { addGlobalIdentityRoles: { ok: true, error: null, result: { identity: { id: alice.identityId, roles: ['person', 'project_creator'] } } } } })
  const token = await signInToken(server.url, alice.email, alice.password)
  assert.deepEqual((await gql(server.url, token, ME)).body.data.me.permissions, { canCreateProject: true })
  const removed = await gql(server.url, ROOT_TOKEN, REMOVE, { id: alice.identityId, roles: ['project_creator'] })
  assert.deepEqual(removed.body.data.removeGlobalIdentityRoles.result.identity.roles, ['person'])
  assert.deepEqual((await gql(server.url, token, ME)).body.data.me.permissions, { canCreateProject: false })
})

test('global roles errors: INVALID_ROLE, IDENTITY_NOT_FOUND (also malformed ids); permissions', async () => {
  const alice = await createPerson(server.url)
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, ADD, { id: alice.identityId, roles: ['wizard'] })).body.data.addGlobalIdentityRoles,
    { ok: false, error: { code: 'INVALID_ROLE', developerMessage: 'Role wizard is not valid or globally assignable' }, result: null })
  assert.equal((await gql(server.url, ROOT_TOKEN, REMOVE, { id: alice.identityId, roles: ['wizard'] })).body.data.removeGlobalIdentityRoles.error.code, 'INVALID_ROLE')
  for (const id of ['00000000-0000-0000-0000-000000000000', 'x']) {
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, ADD, { id, roles: ['login'] })).body.data.addGlobalIdentityRoles,
      { ok: false, error: { code: 'IDENTITY_NOT_FOUND', developerMessage: `Identity ${id} not found` }, result: null })
    assert.equal((await gql(server.url, ROOT_TOKEN, REMOVE, { id, roles: ['login'] })).body.data.removeGlobalIdentityRoles.error.code, 'IDENTITY_NOT_FOUND')
  }
  const admin = await personSession(server.url, ['project_admin'])
  const granted = await gql(server.url, admin.token, ADD, { id: alice.identityId, roles: ['entrypoint_deployer'] })
  assert.equal(granted.body.data.addGlobalIdentityRoles.ok, true)
  assert.equal(granted.body.data.addGlobalIdentityRoles.result.identity.roles, null, 'only super_admin sees other identities\' roles')
  assertForbidden(await gql(server.url, admin.token, ADD, { id: alice.identityId, roles: ['super_admin'] }), 'addGlobalIdentityRoles', 'You are not allowed to add global roles')
  assertForbidden(await gql(server.url, admin.token, REMOVE, { id: alice.identityId, roles: ['project_creator'] }), 'removeGlobalIdentityRoles', 'You are not allowed to remove global roles')
  const person = await personSession(server.url)
  assertForbidden(await gql(server.url, person.token, ADD, { id: alice.identityId, roles: ['login'] }), 'addGlobalIdentityRoles', 'You are not allowed to add global roles')
})

test('audit: api_key_create/disable and global_role_grant/revoke with before/after, never a token', async () => {
  const key = await globalKey(server.url, ['login'])
  await gql(server.url, ROOT_TOKEN, DISABLE, { id: key.apiKeyId })
  const alice = await createPerson(server.url)
  await gql(server.url, ROOT_TOKEN, ADD, { id: alice.identityId, roles: ['project_creator'] })
  await gql(server.url, ROOT_TOKEN, REMOVE, { id: alice.identityId, roles: ['project_creator'] })
  const events = await server.runtime.database.rows<{ type: string, event_data: any }>(
    sql`select type, event_data from audit_event where type <> 'sign_up' and (event_data->>'apiKeyId' = ${key.apiKeyId} or event_data->>'identityId' = ${alice.identityId}) order by created_at, seq`)
  assert.deepEqual(events.map((e) => e.type), ['api_key_create', 'api_key_disable', 'global_role_grant', 'global_role_revoke'])
  assert.deepEqual(events[2].event_data.before, { roles: ['person'] })
  assert.deepEqual(events[2].event_data.after, { roles: ['person', 'project_creator'] })
  assert.ok(!JSON.stringify(events).includes(key.token))
})
