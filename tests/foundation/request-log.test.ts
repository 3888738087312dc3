/**
 * `npm start` on a fresh DATA_DIR writes nothing to stderr (no Fastify deprecation warning such
 * as FSTDEP023), and the request log is one line per response: 'request completed' with the
 * status, never Fastify's 'incoming request' line, whatever the outcome (200, 4xx, 404).
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from '../helpers/http.js'
import { childEnv, killLeftovers, lines, NPM_START, removeDir, startService, tempDir } from './support.js'

const dataDir = tempDir('request-log')
after(() => {
  killLeftovers()
  removeDir(dataDir)
})

test('npm start: empty stderr, and exactly one log line for each request', async () => {
  const service = await startService(NPM_START, childEnv({ DATA_DIR: dataDir, PORT: '0' }))
  const token = service.printed.rootToken!
  const sent: [string, number][] = []
  const send = async (id: string, path: string, init: RequestInit, status: number) => {
    const response = await request(`${service.url}${path}`, { ...init, headers: { ...init.headers as Record<string, string>, 'x-request-id': id } })
    assert.equal(response.status, status, `${id}: ${response.text}`)
    sent.push([id, status])
  }
  const json = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  await send('log-ok', '/tenant', { method: 'POST', headers: json, body: JSON.stringify({ query: '{ me { id } }' }) }, 200)
  await send('log-invalid', '/tenant', { method: 'POST', headers: json, body: '{"query":' }, 400)
  await send('log-unauthorized', '/tenant', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 401)
  await send('log-missing', '/_/api/4/nothing', { method: 'GET' }, 404)
  await send('log-unknown', '/nothing', { method: 'GET' }, 404)

  service.signalGroup('SIGINT')
  assert.equal(await service.exited, 0)
  assert.equal(service.stderr(), '', 'stderr must stay empty')
  const logs = lines(service.stdout()).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, any>)
  assert.deepEqual(logs.filter((entry) => entry.msg === 'incoming request'), [])
  for (const [id, status] of sent) {
    const mine = logs.filter((entry) => entry.reqId === id)
    assert.equal(mine.length, 1, `${id}: ${JSON.stringify(mine)}`)
    assert.equal(mine[0].msg, 'request completed')
    assert.equal(mine[0].res.statusCode, status)
    assert.equal(typeof mine[0].responseTime, 'number')
  }
})
