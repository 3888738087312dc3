/** Auth policies (2.2): create/update/delete/list, validation, every error code, permissions, audit. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, personSession } from '../helpers/accounts.js'

let server: TestServer
before(async () => {
  server = await startTestServer()
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation { createProject(projectSlug: "shop") { ok } }')).body.data.createProject.ok, true)
})
after(async () => { await server.close() })

const FIELDS = 'id scope project roles mfaRequired tokenExpiration idleTimeout mfaGraceDuration rememberMeAllowed'
const LIST = `{ authPolicies { ${FIELDS} } }`
const CREATE = 'mutation($p: AuthPolicyInput!) { createAuthPolicy(policy: $p) { ok error { code developerMessage } result { id } } }'
const UPDATE = 'mutation($id: String!, $p: AuthPolicyInput!) { updateAuthPolicy(id: $id, policy: $p) { ok error { code developerMessage } } }'
const DELETE = 'mutation($id: String!) { deleteAuthPolicy(id: $id) { ok error { code developerMessage } } }'
const MISSING = '00000000-0000-0000-0000-000000000000'

const list = async (token = ROOT_TOKEN) => (await gql(server.url, token, LIST)).body.data.authPolicies as any[]

async function create(policy: Record<string, unknown>): Promise<string> {
  const response = await gql(server.url, ROOT_TOKEN, CREATE, { p: policy })
  assert.equal(response.body.data.createAuthPolicy.ok, true, JSON.stringify(response.body))
  return response.body.data.createAuthPolicy.result.id
}

test('create, list, update and delete a global and a project policy; each change audited as auth_policy_change', async () => {
  const globalId = await create({ scope: 'global', roles: ['super_admin', 'super_admin'], mfaRequired: true, mfaGraceDuration: 'P7D', tokenExpiration: 'PT8H' })
  const projectId = await create({ scope: 'project', project: 'shop', roles: ['editor'], idleTimeout: 'PT30M', rememberMeAllowed: false })
  assert.deepEqual(await list(), [
    { id: globalId, scope: 'global', project: null, roles: ['super_admin'], mfaRequired: true, tokenExpiration: 'PT8H', idleTimeout: null, mfaGraceDuration: 'P7D', rememberMeAllowed: null },
    { id: projectId, scope: 'project', project: 'shop', roles: ['editor'], mfaRequired: null, tokenExpiration: null, idleTimeout: 'PT30M', mfaGraceDuration: null, rememberMeAllowed: false },
  ])

  const updated = await gql(server.url, ROOT_TOKEN, UPDATE, { id: projectId, p: { scope: 'global', roles: ['person'], mfaRequired: false } })
  assert.deepEqual(updated.body, { data: { updateAuthPolicy: { ok: true, error: null } } })
  assert.deepEqual((await list()).find((p) => p.id === projectId),
    { id: projectId, scope: 'global', project: null, roles: ['person'], mfaRequired: false, tokenExpiration: null, idleTimeout: null, mfaGraceDuration: null, rememberMeAllowed: null })

  assert.deepEqual((await gql(server.url, ROOT_TOKEN, DELETE, { id: globalId })).body, { data: { deleteAuthPolicy: { ok: true, error: null } } })
  assert.deepEqual((await list()).map((p) => p.id), [projectId])

  const log = await gql(server.url, ROOT_TOKEN, '{ authLog(filter: { types: ["auth_policy_change"] }) { entries { eventData } } }')
  const events = log.body.data.authLog.entries.map((e: any) => e.eventData).reverse()
  assert.deepEqual(events.map((e: any) => [e.action, e.id]), [['create', globalId], ['create', projectId], ['update', projectId], ['delete', globalId]])
  assert.equal(events[2].before.project, 'shop')
  assert.equal(events[2].after.scope, 'global')
  assert.equal(events[3].before.mfaRequired, true)
})

test('error codes: PROJECT_REQUIRED, PROJECT_NOT_ALLOWED, PROJECT_NOT_FOUND (create and update), NOT_FOUND (update and delete)', async () => {
  const before = await list()
  const projectErrors: [Record<string, unknown>, string, string][] = [
    [{ scope: 'project', roles: ['a'] }, 'PROJECT_REQUIRED', 'A project-scoped policy needs a project'],
    [{ scope: 'global', project: 'shop', roles: ['a'] }, 'PROJECT_NOT_ALLOWED', 'A global policy cannot name a project'],
    [{ scope: 'project', project: 'nowhere', roles: ['a'] }, 'PROJECT_NOT_FOUND', 'Project nowhere was not found'],
  ]
  const id = await create({ scope: 'global', roles: ['x'] })
  for (const [policy, code, developerMessage] of projectErrors) {
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, CREATE, { p: policy })).body.data.createAuthPolicy, { ok: false, error: { code, developerMessage }, result: null })
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, UPDATE, { id, p: policy })).body.data.updateAuthPolicy, { ok: false, error: { code, developerMessage } })
  }
  for (const missing of [MISSING, 'not-a-uuid']) {
    const notFound = { ok: false, error: { code: 'NOT_FOUND', developerMessage: `Auth policy ${missing} was not found` } }
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, UPDATE, { id: missing, p: { scope: 'global', roles: ['a'] } })).body.data.updateAuthPolicy, notFound)
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, DELETE, { id: missing })).body.data.deleteAuthPolicy, notFound)
  }
  assert.deepEqual((await list()).map((p) => p.id), [...before.map((p) => p.id), id])
  assert.deepEqual((await list()).find((p) => p.id === id).roles, ['x'])
})

test('invalid input is a UserInputError naming the field, and nothing is written', async () => {
  const before = await list()
  const cases: [Record<string, unknown>, string][] = [
    [{ scope: 'global', roles: [] }, 'Invalid policy.roles: name at least one role.'],
    [{ scope: 'global', roles: ['has space'] }, 'Invalid policy.roles: "has space" is not a role name.'],
    [{ scope: 'global', roles: ['a'], tokenExpiration: 'PT0S' }, 'Invalid policy.tokenExpiration: must be longer than zero.'],
    [{ scope: 'global', roles: ['a'], idleTimeout: 'P0D' }, 'Invalid policy.idleTimeout: must be longer than zero.'],
  ]
  for (const [policy, message] of cases) {
    const response = await gql(server.url, ROOT_TOKEN, CREATE, { p: policy })
    assert.equal(response.body.errors[0].message, message, JSON.stringify(response.body))
    assert.deepEqual(response.body.errors[0].extensions, { code: 'UserInputError' })
  }
  for (const [policy, pattern] of [[{ scope: 'global', roles: ['a'], idleTimeout: '30 minutes' }, /Interval must be an ISO 8601 duration/], [{ scope: 'tenant', roles: ['a'] }, /AuthPolicyScope/]] as const) {
    const response = await gql(server.url, ROOT_TOKEN, CREATE, { p: policy })
    assert.equal(response.status, 400)
    assert.match(response.body.errors[0].message, pattern)
  }
  assert.deepEqual(await list(), before)
})

test('permissions: changes need system:manageAuthPolicies (super_admin); listing also system:configure (project_admin)', async () => {
  const id = await create({ scope: 'global', roles: ['y'] })
  const projectAdmin = await personSession(server.url, ['project_admin'])
  const person = await personSession(server.url)
  for (const token of [projectAdmin.token, person.token, LOGIN_TOKEN]) {
    assertForbidden(await gql(server.url, token, CREATE, { p: { scope: 'global', roles: ['a'] } }), 'createAuthPolicy', 'You are not allowed to manage auth policies')
    assertForbidden(await gql(server.url, token, UPDATE, { id, p: { scope: 'global', roles: ['a'] } }), 'updateAuthPolicy', 'You are not allowed to manage auth policies')
    assertForbidden(await gql(server.url, token, DELETE, { id }), 'deleteAuthPolicy', 'You are not allowed to manage auth policies')
  }
  assert.ok((await list(projectAdmin.token)).some((p) => p.id === id))
  for (const token of [person.token, LOGIN_TOKEN]) {
    assertForbidden(await gql(server.url, token, LIST), 'authPolicies', 'You are not allowed to view auth policies', 400)
  }
  assert.deepEqual((await list()).find((p) => p.id === id).roles, ['y'])
})
