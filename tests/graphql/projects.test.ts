/**
 * createProject / updateProject / setProjectSecret and the project queries over HTTP: transcript
 * cases E.28-E.40, seed 003's contract (name default, secrets encrypted, deploy key options,
 * creator becomes admin, mergeConfig, empty value clears a secret, audit events without values).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { eq } from 'drizzle-orm'
import { createHash } from 'node:crypto'
import { startTestServer, ROOT_TOKEN, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { auditEvent, projectSecret } from '../../src/db/schema.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server?.close() })

const CREATE = `mutation($slug: String!, $name: String, $config: Json, $secrets: [ProjectSecret!], $options: CreateProjectOptions, $dep: String) {
  createProject(projectSlug: $slug, name: $name, config: $config, secrets: $secrets, options: $options, deployTokenHash: $dep) {
    ok error { code developerMessage } result { deployerApiKey { id token identity { id roles description } } } } }`
const ME = 'query { me { id projects { project { slug name } memberships { role variables { name values } } } } }'

async function globalKey(roles: string[]): Promise<string> {
  const res = await gql(server.url, ROOT_TOKEN, 'mutation($r: [String!]) { createGlobalApiKey(description: "k", roles: $r) { ok result { apiKey { token } } } }', { r: roles })
  assert.equal(res.body.data.createGlobalApiKey.ok, true, JSON.stringify(res.body))
  return res.body.data.createGlobalApiKey.result.apiKey.token
}

const events = (type: string) => server.runtime.ctx.db.select().from(auditEvent).where(eq(auditEvent.type, type))

test('transcript E.29-E.31: createProject with the root token, ALREADY_EXISTS, projects + projectBySlug', async () => {
  const created = await gql(server.url, ROOT_TOKEN, CREATE, { slug: 'peerdemo', name: 'Peer demo' })
  assert.equal(created.status, 200)
  const payload = created.body.data.createProject
  assert.equal(payload.ok, true)
  assert.equal(payload.error, null)
  assert.match(payload.result.deployerApiKey.token, /^[0-9a-f]{40}$/)
  assert.deepEqual(payload.result.deployerApiKey.identity.roles, [])
  assert.equal(payload.result.deployerApiKey.identity.description, 'Deploy key for peerdemo')

  const again = await gql(server.url, ROOT_TOKEN, 'mutation { createProject(projectSlug: "peerdemo") { ok error { code developerMessage } } }')
  assert.deepEqual(again.body, { data: { createProject: { ok: false, error: { code: 'ALREADY_EXISTS', developerMessage: 'Project peerdemo already exists' } } } })

  const read = await gql(server.url, ROOT_TOKEN, 'query($slug: String!) { projects { slug name } projectBySlug(slug: $slug) { id name slug config roles { name variables { name } } } }', { slug: 'peerdemo' })
  assert.equal(read.status, 200)
  assert.ok(read.body.data.projects.some((p: { slug: string, name: string }) => p.slug === 'peerdemo' && p.name === 'Peer demo'))
  const project = read.body.data.projectBySlug
  assert.deepEqual({ ...project, id: undefined }, {
    id: undefined, name: 'Peer demo', slug: 'peerdemo', config: {},
    roles: [{ name: 'admin', variables: [] }, { name: 'content_admin', variables: [] }, { name: 'deployer', variables: [] }],
  })

  // E.37: the deploy key sees its project with the deployer membership.
  const me = await gql(server.url, payload.result.deployerApiKey.token, ME)
  assert.deepEqual(me.body.data.me.projects, [{ project: { slug: 'peerdemo', name: 'Peer demo' }, memberships: [{ role: 'deployer', variables: [] }] }])

  const [audit] = (await events('project_create')).filter((e) => (e.eventData as { slug: string }).slug === 'peerdemo')
  assert.deepEqual(audit.eventData, { slug: 'peerdemo', name: 'Peer demo', secretKeys: [] })
})

test('transcript E.28: createProject without project:create is a ForbiddenError with HTTP 200', async () => {
  const token = await globalKey([])
  const res = await gql(server.url, token, 'mutation { createProject(projectSlug: "forbidden_x") { ok error { code developerMessage } } }')
  assert.equal(res.status, 200)
  assert.deepEqual(res.body, {
    errors: [{ message: 'You are not allowed to create a project', locations: [{ line: 1, column: 12 }], path: ['createProject'], extensions: { code: 'ForbiddenError' } }],
    data: { createProject: null },
  })
})

test('createProject: name defaults to the slug, secrets are encrypted, options and the deprecated deployTokenHash', async () => {
  const res = await gql(server.url, ROOT_TOKEN, CREATE, {
    slug: 'secretive', config: { a: { b: 1 } },
    secrets: [{ key: 's3.accessKey', value: 'AKIA-SECRET' }, { key: 'empty', value: '' }],
    options: { noDeployToken: true },
  })
  assert.deepEqual(res.body.data.createProject, { ok: true, error: null, result: { deployerApiKey: null } })
  const read = await gql(server.url, ROOT_TOKEN, '{ projectBySlug(slug: "secretive") { id name config } }')
  assert.equal(read.body.data.projectBySlug.name, 'secretive')
  assert.deepEqual(read.body.data.projectBySlug.config, { a: { b: 1 } })
  const secrets = await server.runtime.ctx.db.select().from(projectSecret).where(eq(projectSecret.projectId, read.body.data.projectBySlug.id))
  assert.deepEqual(secrets.map((s) => s.key), ['s3.accessKey'])
  assert.doesNotMatch(secrets[0].valueEncrypted, /AKIA/)
  assert.equal(server.runtime.ctx.encryption.decrypt(secrets[0].valueEncrypted), 'AKIA-SECRET')
  const [audit] = (await events('project_create')).filter((e) => (e.eventData as { slug: string }).slug === 'secretive')
  assert.deepEqual(audit.eventData, { slug: 'secretive', name: 'secretive', secretKeys: ['s3.accessKey'] })
  assert.doesNotMatch(JSON.stringify(audit), /AKIA/)

  const token = 'f'.repeat(40)
  const hash = createHash('sha256').update(token).digest('hex')
  for (const [slug, variables] of [['hashed1', { options: { deployTokenHash: hash } }], ['hashed2', { dep: hash.replace(/f/g, 'e') }]] as const) {
    const created = await gql(server.url, ROOT_TOKEN, CREATE, { slug, ...variables })
    assert.equal(created.body.data.createProject.ok, true)
    assert.equal(created.body.data.createProject.result.deployerApiKey.token, null, 'a supplied hash means no token in the result')
  }
  const me = await gql(server.url, token, ME)
  assert.deepEqual(me.body.data.me.projects.map((p: { project: { slug: string } }) => p.project.slug), ['hashed1'])

  const bad = await gql(server.url, ROOT_TOKEN, CREATE, { slug: 'badhash', options: { deployTokenHash: 'ABC' } })
  assert.equal(bad.body.errors[0].extensions.code, 'UserInputError')
  assert.equal(bad.body.errors[0].message, 'Invalid format of deployTokenHash. Must be hex-encoded sha256.')
  const badConfig = await gql(server.url, ROOT_TOKEN, CREATE, { slug: 'badconfig', config: [1, 2] })
  assert.equal(badConfig.body.errors[0].extensions.code, 'UserInputError')
  const badSlug = await gql(server.url, ROOT_TOKEN, CREATE, { slug: 'bad slug/..' })
  assert.equal(badSlug.body.errors[0].extensions.code, 'UserInputError')
  const none = await gql(server.url, ROOT_TOKEN, '{ projectBySlug(slug: "badconfig") { id } }')
  assert.equal(none.body.data.projectBySlug, null, 'no partial write')
})

test('a project_creator who is not super admin becomes the admin of the project it creates', async () => {
  const token = await globalKey(['project_creator'])
  const res = await gql(server.url, token, CREATE, { slug: 'byCreator' })
  assert.equal(res.body.data.createProject.ok, true)
  const me = await gql(server.url, token, ME)
  assert.deepEqual(me.body.data.me.projects, [{ project: { slug: 'byCreator', name: 'byCreator' }, memberships: [{ role: 'admin', variables: [] }] }])
  const projects = await gql(server.url, token, '{ projects { slug } }')
  assert.deepEqual(projects.body.data.projects, [{ slug: 'byCreator' }], 'projects lists only the caller\'s memberships')
  // updateProject and setProjectSecret need super_admin, even for the project's admin.
  const update = await gql(server.url, token, 'mutation { updateProject(projectSlug: "byCreator", name: "X") { ok } }')
  assert.equal(update.body.errors[0].message, 'You are not allowed to update a project')
  assert.deepEqual(update.body.data, { updateProject: null })
  const secret = await gql(server.url, token, 'mutation { setProjectSecret(projectSlug: "byCreator", key: "k", value: "v") { ok } }')
  assert.equal(secret.body.errors[0].message, 'You are not allowed to set project secrets')
})

test('updateProject: rename, replace or deep-merge config, PROJECT_NOT_FOUND, audit without config payload', async () => {
  await gql(server.url, ROOT_TOKEN, CREATE, { slug: 'updatable', config: { keep: 1, nested: { a: 1, b: 2 }, list: [1] } })
  const UPDATE = 'mutation($slug: String!, $name: String, $config: Json, $merge: Boolean) { updateProject(projectSlug: $slug, name: $name, config: $config, mergeConfig: $merge) { ok error { code developerMessage } } }'
  let res = await gql(server.url, ROOT_TOKEN, UPDATE, { slug: 'updatable', name: 'Updated', config: { nested: { b: 3, c: 4 }, list: [2] }, merge: true })
  assert.deepEqual(res.body.data.updateProject, { ok: true, error: null })
  let read = await gql(server.url, ROOT_TOKEN, '{ projectBySlug(slug: "updatable") { name config } }')
  assert.deepEqual(read.body.data.projectBySlug, { name: 'Updated', config: { keep: 1, nested: { a: 1, b: 3, c: 4 }, list: [2] } })
  res = await gql(server.url, ROOT_TOKEN, UPDATE, { slug: 'updatable', config: { only: true } })
  read = await gql(server.url, ROOT_TOKEN, '{ projectBySlug(slug: "updatable") { name config } }')
  assert.deepEqual(read.body.data.projectBySlug, { name: 'Updated', config: { only: true } })

  const missing = await gql(server.url, ROOT_TOKEN, UPDATE, { slug: 'nope', name: 'x' })
  assert.deepEqual(missing.body.data.updateProject, { ok: false, error: { code: 'PROJECT_NOT_FOUND', developerMessage: 'Project nope was not found or you are not allowed to access it.' } })

  const audits = (await events('project_update')).map((e) => e.eventData)
  assert.deepEqual(audits, [
    { slug: 'updatable', before: { name: 'updatable' }, after: { name: 'Updated' }, configChanged: true, mergeConfig: true },
    { slug: 'updatable', configChanged: true, mergeConfig: false },
  ])
})

test('setProjectSecret: encrypted upsert, empty value clears, PROJECT_NOT_FOUND, audit {slug, key}', async () => {
  await gql(server.url, ROOT_TOKEN, CREATE, { slug: 'secrets2' })
  const SET = 'mutation($slug: String!, $key: String!, $value: String!) { setProjectSecret(projectSlug: $slug, key: $key, value: $value) { ok error { code developerMessage } } }'
  for (const value of ['first-value', 'second-value']) {
    const res = await gql(server.url, ROOT_TOKEN, SET, { slug: 'secrets2', key: 'api', value })
    assert.deepEqual(res.body.data.setProjectSecret, { ok: true, error: null })
  }
  const project = await gql(server.url, ROOT_TOKEN, '{ projectBySlug(slug: "secrets2") { id } }')
  const rows = () => server.runtime.ctx.db.select().from(projectSecret).where(eq(projectSecret.projectId, project.body.data.projectBySlug.id))
  const [row] = await rows()
  assert.equal(server.runtime.ctx.encryption.decrypt(row.valueEncrypted), 'second-value')
  await gql(server.url, ROOT_TOKEN, SET, { slug: 'secrets2', key: 'api', value: '' })
  assert.deepEqual(await rows(), [])
  const missing = await gql(server.url, ROOT_TOKEN, SET, { slug: 'nope', key: 'a', value: 'b' })
  assert.equal(missing.body.data.setProjectSecret.error.code, 'PROJECT_NOT_FOUND')
  const audits = (await events('project_secret_change')).map((e) => e.eventData)
  assert.deepEqual(audits, [{ slug: 'secrets2', key: 'api' }, { slug: 'secrets2', key: 'api' }, { slug: 'secrets2', key: 'api' }])
  assert.doesNotMatch(JSON.stringify(await events('project_secret_change')), /value/)
})

test('projectBySlug is null for a missing project or a caller without access; projects of a stranger is empty', async () => {
  const token = await globalKey([])
  const res = await gql(server.url, token, '{ projects { slug } projectBySlug(slug: "peerdemo") { id } missing: projectBySlug(slug: "none") { id } }')
  assert.deepEqual(res.body, { data: { projects: [], projectBySlug: null, missing: null } })
})
