/** disableApiKey's audit event names the project of a project API key, as its api_key_create does; other keys name none. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { gql } from '../helpers/http.js'
import { ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { globalKey, personSession } from '../helpers/accounts.js'

let server: TestServer
let projectId: string
before(async () => {
  server = await startTestServer()
  const config = { acl: { roles: { editor: {} } } }
  const created = await gql(server.url, ROOT_TOKEN, 'mutation($config: Json) { createProject(projectSlug: "keyed", name: "Keyed", config: $config) { ok } }', { config })
  assert.equal(created.body.data.createProject.ok, true)
  projectId = (await gql(server.url, ROOT_TOKEN, '{ projectBySlug(slug: "keyed") { id } }')).body.data.projectBySlug.id
})
after(async () => { await server.close() })

const DISABLE = 'mutation($id: String!) { disableApiKey(id: $id) { ok } }'
const AUTH_LOG = '{ authLog(filter: { types: ["api_key_create", "api_key_disable"] }) { entries { type eventData metadata } } }'

async function logged(type: string, apiKeyId: string) {
  const entries = (await gql(server.url, ROOT_TOKEN, AUTH_LOG)).body.data.authLog.entries
  const entry = entries.find((e: any) => e.type === type && e.eventData.apiKeyId === apiKeyId)
  assert.ok(entry, `${type} of ${apiKeyId}`)
  return entry
}

test('a project key: api_key_create and api_key_disable both carry the projectId', async () => {
  const created = await gql(server.url, ROOT_TOKEN,
    'mutation { createApiKey(projectSlug: "keyed", memberships: [{ role: "editor", variables: [] }], description: "deploy") { ok result { apiKey { id } } } }')
  assert.equal(created.body.data.createApiKey.ok, true, created.text)
  const apiKeyId = created.body.data.createApiKey.result.apiKey.id
  assert.equal((await gql(server.url, ROOT_TOKEN, DISABLE, { id: apiKeyId })).body.data.disableApiKey.ok, true)
  assert.equal((await logged('api_key_create', apiKeyId)).metadata?.projectId, projectId)
  assert.equal((await logged('api_key_disable', apiKeyId)).metadata?.projectId, projectId)
})

test('a global key and a member\'s session: no projectId', async () => {
  const key = await globalKey(server.url, ['project_admin'])
  const member = await personSession(server.url)
  const added = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { addProjectMember(projectSlug: "keyed", identityId: $id, memberships: [{ role: "editor", variables: [] }]) { ok } }', { id: member.identityId })
  assert.equal(added.body.data.addProjectMember.ok, true)
  const session = (await gql(server.url, member.token, '{ me { sessions { id } } }')).body.data.me.sessions[0].id
  for (const id of [key.apiKeyId, session]) {
    assert.equal((await gql(server.url, ROOT_TOKEN, DISABLE, { id })).body.data.disableApiKey.ok, true)
    assert.equal((await logged('api_key_disable', id)).metadata?.projectId, undefined)
  }
})
