/**
 * The README's promise, with the real start command on a fresh DATA_DIR (embedded database, in
 * both runs since it is about the embedded default): it prints where it listens and the
 * generated tokens, answers ready, the printed root token works, Ctrl-C exits 0, and the next
 * start reuses the data and the key. Then the Docker command under SIGTERM with a request in
 * flight. With DATABASE_URL set, the PostgreSQL start path as well.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { request as httpRequest } from 'node:http'
import { gql, request } from '../helpers/http.js'
import { createPostgresDatabase, TEST_ENCRYPTION_KEY } from '../helpers/server.js'
import { childEnv, DOCKER_CMD, killLeftovers, lines, NPM_START, removeDir, spawnService, startService, tempDir } from './support.js'

const dataDir = tempDir('e2e')
after(() => {
  killLeftovers()
  removeDir(dataDir)
})

const embeddedEnv = () => childEnv({ DATA_DIR: dataDir, PORT: '0' })
/** stderr lines other than Node's process warnings (a library's deprecation notice is not a failure). */
const errorLines = (text: string) => lines(text).filter((line) => !/^\(node:\d+\) \[\w+\] \w*(Warning|Deprecation)\b|^\(Use `node --trace-warnings/.test(line))

let firstStart: { rootToken: string, loginToken: string, rootIdentityId: string, key: string } | undefined

async function me(url: string, token: string) {
  const response = await gql(url, token, '{ me { id roles } }')
  assert.equal(response.status, 200, response.text)
  return response.body.data.me as { id: string, roles: string[] }
}

test('npm start on a fresh DATA_DIR: address and tokens printed, ready, root token works, Ctrl-C exits 0', async () => {
  const service = await startService(NPM_START, embeddedEnv())
  const out = service.stdout()
  assert.match(out, new RegExp(`listening on ${service.url} \\(embedded database in ${dataDir}\\)`))
  assert.match(out, /login token \(bearer for signIn[^\n]*\): [0-9a-f]{40}\n/)
  assert.match(out, /root token \(super_admin[^\n]*\): +[0-9a-f]{40}\n/)
  assert.match(out, /shown only this once/)
  const { rootToken, loginToken } = service.printed
  assert.ok(rootToken && loginToken && rootToken !== loginToken)

  const ready = await request(`${service.url}/health/ready`)
  assert.equal(ready.status, 200)
  assert.deepEqual(ready.body, { status: 'ok', database: 'up' })
  const root = await me(service.url, rootToken)
  assert.deepEqual(root.roles, ['super_admin'])
  assert.deepEqual((await me(service.url, loginToken)).roles, ['login'])

  const keyFile = join(dataDir, 'encryption.key')
  assert.equal(statSync(keyFile).mode & 0o777, 0o600)
  assert.match(out, /Generated an encryption key in /)

  service.signalGroup('SIGINT')
  assert.equal(await service.exited, 0)
  assert.match(service.stdout(), /"signal":"SIGINT"[^\n]*shutting down/)
  assert.match(service.stdout(), /stopped: in-flight requests finished, database closed/)
  assert.deepEqual(errorLines(service.stderr()), [])
  firstStart = { rootToken, loginToken, rootIdentityId: root.id, key: readFileSync(keyFile, 'utf8') }
})

test('npm start again: same data, same key, the printed tokens still work, nothing new printed', async () => {
  assert.ok(firstStart, 'needs the first start')
  const service = await startService(NPM_START, embeddedEnv())
  assert.deepEqual(service.printed, {})
  assert.doesNotMatch(service.stdout(), /[0-9a-f]{40}/)
  assert.doesNotMatch(service.stdout(), /First start|Generated an encryption key/)
  assert.equal((await request(`${service.url}/health/ready`)).status, 200)
  const root = await me(service.url, firstStart.rootToken)
  assert.equal(root.id, firstStart.rootIdentityId)
  assert.deepEqual((await me(service.url, firstStart.loginToken)).roles, ['login'])
  const keyFile = join(dataDir, 'encryption.key')
  assert.equal(readFileSync(keyFile, 'utf8'), firstStart.key)
  assert.equal(statSync(keyFile).mode & 0o777, 0o600)
  service.signalGroup('SIGINT')
  assert.equal(await service.exited, 0)
})

/**
 * Starts a POST /tenant with `Expect: 100-continue` and holds the body back. Node's server answers
 * "100 Continue" in the same step as it hands the request to Fastify, so once the client sees it
 * the request is routed and in flight. `finish` sends the body.
 */
function startHeldRequest(url: string, token: string) {
  const body = JSON.stringify({ query: '{ me { id roles } }' })
  const target = new URL(`${url}/tenant`)
  const req = httpRequest({
    host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}`, expect: '100-continue' },
  })
  const routed = new Promise<void>((resolve) => req.once('continue', () => resolve()))
  const response = new Promise<{ status: number, body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
  })
  req.flushHeaders()
  return { routed, response, finish: () => req.end(body) }
}

test('SIGTERM to the Docker command lets an in-flight request finish, then exits 0', async () => {
  assert.ok(firstStart, 'needs the first start')
  const service = await startService(DOCKER_CMD, embeddedEnv())
  const held = startHeldRequest(service.url, firstStart.rootToken)
  await held.routed
  service.child.kill('SIGTERM')
  await service.waitForStdout(/"signal":"SIGTERM"[^\n]*shutting down/)
  held.finish()
  const response = await held.response
  assert.equal(response.status, 200)
  assert.equal(JSON.parse(response.body).data.me.id, firstStart.rootIdentityId)
  assert.equal(await service.exited, 0)
  assert.match(service.stdout(), /stopped: in-flight requests finished, database closed/)
})

if (process.env.DATABASE_URL) {
  test('PostgreSQL start path: refuses to start without ENCRYPTION_KEY', async () => {
    const database = await createPostgresDatabase()
    try {
      const service = spawnService(NPM_START, childEnv({ DATABASE_URL: database.url, PORT: '0' }))
      assert.equal(await service.exited, 2)
      const errorLines = lines(service.stderr())
      assert.equal(errorLines.length, 1, service.stderr())
      assert.match(errorLines[0], /ENCRYPTION_KEY: is required with DATABASE_URL/)
      assert.doesNotMatch(service.stdout(), /listening/)
    } finally {
      await database.drop()
    }
  })

  test('PostgreSQL start path: first start prints tokens, restart reuses them and prints none', async () => {
    const database = await createPostgresDatabase()
    const env = childEnv({ DATABASE_URL: database.url, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, PORT: '0', DATA_DIR: dataDir })
    try {
      const first = await startService(NPM_START, env)
      assert.match(first.stdout(), /listening on http:\/\/\S+ \(PostgreSQL\)/)
      const { rootToken, loginToken } = first.printed
      assert.ok(rootToken && loginToken)
      assert.equal((await request(`${first.url}/health/ready`)).status, 200)
      const root = await me(first.url, rootToken)
      assert.deepEqual(root.roles, ['super_admin'])
      first.signalGroup('SIGINT')
      assert.equal(await first.exited, 0)

      const second = await startService(NPM_START, env)
      assert.deepEqual(second.printed, {})
      assert.doesNotMatch(second.stdout(), /[0-9a-f]{40}/)
      assert.equal((await me(second.url, rootToken)).id, root.id)
      assert.deepEqual((await me(second.url, loginToken)).roles, ['login'])
      second.signalGroup('SIGINT')
      assert.equal(await second.exited, 0)
    } finally {
      await database.drop()
    }
  })
}
