/** 2.2 admin lists: persons (reach, filters, pages), globalApiKeys, Project.apiKeys, Project.secrets, ApiKey's 2.2 fields. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { globalKey, personSession, type TestPerson } from '../helpers/accounts.js'

let server: TestServer
type Session = TestPerson & { token: string }
let inAlpha: Session, inBeta: Session, inNothing: Session, alphaAdmin: Session, alphaViewer: Session, globalProjectAdmin: Session

const CONFIG = {
  acl: {
    roles: {
      editor: { variables: { language: { type: 'entity', entityName: 'Language' } } },
      reader: {},
      viewer: { tenant: { view: { editor: { variables: true } } } },
    },
  },
}

const ADD = 'mutation($slug: String!, $id: String!, $m: [MembershipInput!]!) { addProjectMember(projectSlug: $slug, identityId: $id, memberships: $m) { ok error { code developerMessage } } }'
const API_KEY = 'mutation($slug: String!, $m: [MembershipInput!]!, $d: String!) { createApiKey(projectSlug: $slug, memberships: $m, description: $d) { ok result { apiKey { id token identity { id } } } } }'
const PERSONS = 'query($filter: PersonsFilter, $limit: Int, $offset: Int) { persons(filter: $filter, limit: $limit, offset: $offset) { id email identity { id } } }'
const KEY_FIELDS = 'id description type enabled createdAt lastUsedAt expiresAt identity { id description }'

async function addMember(slug: string, identityId: string, memberships: unknown[]) {
  const response = await gql(server.url, ROOT_TOKEN, ADD, { slug, id: identityId, m: memberships })
  assert.equal(response.body.data.addProjectMember.ok, true, JSON.stringify(response.body))
}

async function projectKey(slug: string, memberships: unknown[], description: string) {
  const response = await gql(server.url, ROOT_TOKEN, API_KEY, { slug, m: memberships, d: description })
  assert.equal(response.body.data.createApiKey.ok, true, JSON.stringify(response.body))
  return response.body.data.createApiKey.result.apiKey as { id: string, token: string, identity: { id: string } }
}

let alphaEditorKey: { id: string }, alphaReaderKey: { id: string }, betaKey: { id: string }

before(async () => {
  server = await startTestServer()
  for (const slug of ['alpha', 'beta']) {
    const created = await gql(server.url, ROOT_TOKEN, 'mutation($slug: String!, $config: Json) { createProject(projectSlug: $slug, config: $config, secrets: [{ key: "dbPassword", value: "s3cret-value-xyz" }]) { ok } }', { slug, config: CONFIG })
    assert.equal(created.body.data.createProject.ok, true, JSON.stringify(created.body))
  }
  ;[inAlpha, inBeta, inNothing, alphaAdmin, alphaViewer] = await Promise.all([1, 2, 3, 4, 5].map(() => personSession(server.url)))
  globalProjectAdmin = await personSession(server.url, ['project_admin'])
  await addMember('alpha', inAlpha.identityId, [{ role: 'editor', variables: [{ name: 'language', values: ['cs'] }] }])
  await addMember('beta', inBeta.identityId, [{ role: 'reader', variables: [] }])
  await addMember('alpha', alphaAdmin.identityId, [{ role: 'admin', variables: [] }])
  await addMember('alpha', alphaViewer.identityId, [{ role: 'viewer', variables: [] }])
  alphaEditorKey = await projectKey('alpha', [{ role: 'editor', variables: [{ name: 'language', values: ['en'] }] }], 'alpha editor key')
  alphaReaderKey = await projectKey('alpha', [{ role: 'reader', variables: [] }], 'alpha reader key')
  betaKey = await projectKey('beta', [{ role: 'reader', variables: [] }], 'beta key')
})
after(async () => { await server.close() })

const personIds = async (token: string, variables: Record<string, unknown> = {}) => {
  const response = await gql(server.url, token, PERSONS, variables)
  assert.equal(response.status, 200, JSON.stringify(response.body))
  return (response.body.data.persons as { id: string }[]).map((p) => p.id)
}

test('persons: super_admin lists everyone (paged, oldest first); filters by e-mail (any case), personId, identityId', async () => {
  const all = await personIds(ROOT_TOKEN)
  for (const p of [inAlpha, inBeta, inNothing, alphaAdmin, globalProjectAdmin]) assert.ok(all.includes(p.personId))
  const pages = [await personIds(ROOT_TOKEN, { limit: 2 }), await personIds(ROOT_TOKEN, { limit: 2, offset: 2 }), await personIds(ROOT_TOKEN, { limit: 500, offset: 4 })]
  assert.deepEqual(pages.flat(), all)
  assert.deepEqual(await personIds(ROOT_TOKEN, { limit: 100_000 }), all)
  assert.deepEqual(await personIds(ROOT_TOKEN, { offset: all.length }), [])

  const byEmail = await gql(server.url, ROOT_TOKEN, PERSONS, { filter: { email: inBeta.email.toUpperCase() } })
  assert.deepEqual(byEmail.body.data.persons, [{ id: inBeta.personId, email: inBeta.email, identity: { id: inBeta.identityId } }])
  assert.deepEqual(await personIds(ROOT_TOKEN, { filter: { personId: inAlpha.personId } }), [inAlpha.personId])
  assert.deepEqual(await personIds(ROOT_TOKEN, { filter: { identityId: inAlpha.identityId } }), [inAlpha.personId])
  assert.deepEqual(await personIds(ROOT_TOKEN, { filter: { personId: inAlpha.personId, identityId: inBeta.identityId } }), [])
  assert.deepEqual(await personIds(ROOT_TOKEN, { filter: { email: 'nobody@example.com' } }), [])
})

test('persons: a project admin sees its projects\' members, a global project_admin every project member, others nothing', async () => {
  assert.deepEqual((await personIds(alphaAdmin.token)).sort(), [inAlpha.personId, alphaAdmin.personId, alphaViewer.personId].sort())
  const viaGlobal = await personIds(globalProjectAdmin.token)
  assert.deepEqual(viaGlobal.sort(), [inAlpha.personId, inBeta.personId, alphaAdmin.personId, alphaViewer.personId].sort())
  for (const token of [inAlpha.token, inNothing.token, alphaViewer.token, LOGIN_TOKEN, (await globalKey(server.url, [])).token]) {
    assert.deepEqual(await personIds(token), [])
  }
})

test('persons: bad limit, offset and ids are named errors', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ limit: 0 }, 'Invalid limit: must be at least 1.'],
    [{ offset: -5 }, 'Invalid offset: must not be negative.'],
    [{ filter: { personId: 'x' } }, 'Invalid filter.personId: must be a UUID.'],
    [{ filter: { identityId: 'x' } }, 'Invalid filter.identityId: must be a UUID.'],
  ]
  for (const [variables, message] of cases) {
    const response = await gql(server.url, ROOT_TOKEN, PERSONS, variables)
    assert.equal(response.status, 400)
    assert.equal(response.body.errors[0].message, message)
  }
})

test('globalApiKeys: global permanent keys with the 2.2 fields; project keys and sessions excluded; apiKey:list only', async () => {
  const key = await globalKey(server.url, ['project_creator'])
  const list = async () => (await gql(server.url, ROOT_TOKEN, `{ globalApiKeys { ${KEY_FIELDS} } }`)).body.data.globalApiKeys as any[]
  let found = (await list()).find((k) => k.id === key.apiKeyId)
  assert.deepEqual({ ...found, createdAt: undefined }, {
    id: key.apiKeyId, description: 'test key', type: 'PERMANENT', enabled: true, createdAt: undefined,
    lastUsedAt: null, expiresAt: null, identity: { id: key.identityId, description: 'test key' },
  })
  assert.ok(Date.parse(found.createdAt) > 0)
  const ids = (await list()).map((k) => k.id)
  for (const projectKeyId of [alphaEditorKey.id, alphaReaderKey.id, betaKey.id]) assert.ok(!ids.includes(projectKeyId))
  assert.ok((await list()).every((k) => k.type === 'PERMANENT'))

  // Use, then disable: lastUsedAt appears (written off the request path), enabled turns false.
  await gql(server.url, key.token, '{ me { id } }')
  const deadline = Date.now() + 10_000
  while (!(found = (await list()).find((k) => k.id === key.apiKeyId)).lastUsedAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  assert.ok(found.lastUsedAt)
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { disableApiKey(id: $id) { ok } }', { id: key.apiKeyId })).body.data.disableApiKey.ok, true)
  assert.equal((await list()).find((k) => k.id === key.apiKeyId).enabled, false)

  for (const token of [inAlpha.token, globalProjectAdmin.token, LOGIN_TOKEN]) {
    assert.deepEqual((await gql(server.url, token, '{ globalApiKeys { id } }')).body, { data: { globalApiKeys: [] } })
  }
})

const PROJECT_LISTS = `query($slug: String!) { projectBySlug(slug: $slug) { apiKeys { ${KEY_FIELDS} } secrets { key createdAt updatedAt } } }`

test('Project.apiKeys: the project\'s permanent keys to whoever may view their memberships; others get []', async () => {
  const asRoot = (await gql(server.url, ROOT_TOKEN, PROJECT_LISTS, { slug: 'alpha' })).body.data.projectBySlug.apiKeys
  // createProject's deploy key is a member too.
  const [deployKey, ...created] = asRoot
  assert.equal(deployKey.description, 'Deploy key for alpha')
  assert.deepEqual(created.map((k: any) => [k.id, k.description, k.type, k.enabled, k.expiresAt]),
    [[alphaEditorKey.id, 'alpha editor key', 'PERMANENT', true, null], [alphaReaderKey.id, 'alpha reader key', 'PERMANENT', true, null]])
  const asAdmin = (await gql(server.url, alphaAdmin.token, PROJECT_LISTS, { slug: 'alpha' })).body.data.projectBySlug.apiKeys
  assert.deepEqual(asAdmin.map((k: any) => k.id), [deployKey.id, alphaEditorKey.id, alphaReaderKey.id])
  // The viewer role's ACL may view editors only.
  const asViewer = (await gql(server.url, alphaViewer.token, PROJECT_LISTS, { slug: 'alpha' })).body.data.projectBySlug.apiKeys
  assert.deepEqual(asViewer.map((k: any) => k.id), [alphaEditorKey.id])
  const asEditor = await gql(server.url, inAlpha.token, PROJECT_LISTS, { slug: 'alpha' })
  assert.deepEqual(asEditor.body.data.projectBySlug.apiKeys, [])
  const beta = (await gql(server.url, ROOT_TOKEN, PROJECT_LISTS, { slug: 'beta' })).body.data.projectBySlug.apiKeys
  assert.deepEqual(beta.slice(1).map((k: any) => k.id), [betaKey.id])
  assert.ok(!beta.some((k: any) => k.id === deployKey.id))
})

test('Project.secrets: names and timestamps only, to project admins; never a value; others get []', async () => {
  for (const token of [ROOT_TOKEN, alphaAdmin.token, globalProjectAdmin.token]) {
    const response = await gql(server.url, token, PROJECT_LISTS, { slug: 'alpha' })
    const [secret, ...rest] = response.body.data.projectBySlug.secrets
    assert.deepEqual(rest, [])
    assert.equal(secret.key, 'dbPassword')
    assert.ok(Date.parse(secret.createdAt) > 0 && Date.parse(secret.updatedAt) >= Date.parse(secret.createdAt))
    assert.ok(!response.text.includes('s3cret-value-xyz'))
  }
  for (const token of [inAlpha.token, alphaViewer.token]) {
    assert.deepEqual((await gql(server.url, token, PROJECT_LISTS, { slug: 'alpha' })).body.data.projectBySlug.secrets, [])
  }
})
