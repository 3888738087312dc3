/**
 * Strings PostgreSQL cannot store (the NUL character, unpaired UTF-16 surrogates) anywhere in a
 * tenants API request (body values and keys, path parameters, query string): 400 in our error
 * shape naming the field, after the signature check, never a 500, and nothing written.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestServer } from '../helpers/server.js'
import { call, startRestServer } from './client.js'

let server: TestServer
before(async () => {
  server = await startRestServer()
  assert.equal((await call(server, 'POST', 'tenants', { body: { id: 'seed', hostname: 'seed.example.com', is_enabled: true, env: { KEEP: 'kept' } } })).status, 201)
  assert.equal((await call(server, 'POST', 'tenants-plans', { body: { id: 'basic', limits: { CHEVERETO_MAX_USERS: '5' } } })).status, 201)
})
after(async () => { await server?.close() })

const NUL = 'nul\u0000byte'
const LONE = 'lone\ud800surrogate'

async function refused(method: string, path: string, body: unknown, message: string) {
  const response = await call(server, method, path, { body })
  assert.equal(response.status, 400, `${method} ${path}: ${response.text}`)
  assert.deepEqual(response.body, { statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message }, `${method} ${path}`)
}

async function state() {
  const tenants = await call(server, 'GET', 'tenants')
  const plans = await call(server, 'GET', 'tenants-plans')
  assert.equal(tenants.status, 200)
  assert.equal(plans.status, 200)
  return { tenants: tenants.body, plans: plans.body }
}

const NUL_MESSAGE = 'must not contain the NUL character (U+0000)'
const LONE_MESSAGE = 'must not contain an unpaired UTF-16 surrogate (not valid Unicode)'

test('bodies: NUL or a lone surrogate in any value or key is a 400 naming its JSON pointer; nothing changes', async () => {
  const before = await state()
  const tenant = { id: 'fresh', hostname: 'fresh.example.com', is_enabled: true }
  await refused('POST', 'tenants', { ...tenant, hostname: `a${NUL}.example.com` }, `body/hostname ${NUL_MESSAGE}`)
  await refused('POST', 'tenants', { ...tenant, id: NUL }, `body/id ${NUL_MESSAGE}`)
  await refused('POST', 'tenants', { ...tenant, env: { A: 'fine', B: NUL } }, `body/env/B ${NUL_MESSAGE}`)
  await refused('POST', 'tenants', { ...tenant, env: { A: LONE } }, `body/env/A ${LONE_MESSAGE}`)
  await refused('POST', 'tenants', { ...tenant, env: { [`KEY${NUL}`]: 'x' } }, `body/env keys ${NUL_MESSAGE}`)
  await refused('POST', 'tenants', { ...tenant, limits: { CHEVERETO_MAX_USERS: '\udfff5' } }, `body/limits/CHEVERETO_MAX_USERS ${LONE_MESSAGE}`)
  // Pointer segments are escaped as RFC 6901 says: "/" as ~1, "~" as ~0.
  await refused('POST', 'tenants', { ...tenant, env: { 'a/b~c': NUL } }, `body/env/a~1b~0c ${NUL_MESSAGE}`)
  await refused('PATCH', 'tenants/seed', { env: { KEEP: NUL } }, `body/env/KEEP ${NUL_MESSAGE}`)
  await refused('POST', 'tenants/seed/install', { username: 'admin', email: 'admin@example.com', password: `Password-1${NUL}` }, `body/password ${NUL_MESSAGE}`)
  await refused('PATCH', 'tenants/seed/user-password-reset', { username: LONE }, `body/username ${LONE_MESSAGE}`)
  await refused('POST', 'tenants-plans', { id: 'named', name: `Plan ${NUL}` }, `body/name ${NUL_MESSAGE}`)
  await refused('PATCH', 'tenants-plans/basic', { env: { X: LONE } }, `body/env/X ${LONE_MESSAGE}`)
  // A bare string body is checked too (before the schema says it is not an object).
  await refused('POST', 'tenants', JSON.stringify(NUL), `body ${NUL_MESSAGE}`)
  assert.deepEqual(await state(), before)
  const seed = await call(server, 'GET', 'tenants/seed')
  assert.deepEqual(seed.body.env, { KEEP: 'kept' })
  assert.equal(seed.body.stats.users, 0, 'the refused install created no user')
})

test('path parameters and query strings: %00 is a 400 naming params/… or querystring/…', async () => {
  const before = await state()
  for (const [method, path] of [['GET', 'tenants/a%00b'], ['DELETE', 'tenants/a%00b'], ['POST', 'tenants/a%00b/restore'], ['GET', 'tenants-plans/p%00'], ['DELETE', 'tenants-plans/p%00'], ['GET', 'tenants/a%00/audit']]) {
    await refused(method, path, undefined, `params/id ${NUL_MESSAGE}`)
  }
  await refused('GET', 'resolve?hostname=a%00b.example.com', undefined, `querystring/hostname ${NUL_MESSAGE}`)
  await refused('GET', 'tenants/seed/audit?limit=1%00', undefined, `querystring/limit ${NUL_MESSAGE}`)
  assert.deepEqual(await state(), before)
})

test('the signature is checked first: an unsigned request with a NUL is 401, not 400', async () => {
  const response = await call(server, 'POST', 'tenants', { body: { id: 'x', hostname: NUL, is_enabled: true }, sign: false })
  assert.equal(response.status, 401, response.text)
})

test('well-formed Unicode, astral characters included, is stored and read back as sent', async () => {
  const env = { GREETING: 'Grüße 😀 \ud83d\ude00 日本', TAB: 'a\tb' }
  const created = await call(server, 'POST', 'tenants', { body: { id: 'unicode', hostname: 'unicode.example.com', is_enabled: true, env } })
  assert.equal(created.status, 201, created.text)
  assert.deepEqual((await call(server, 'GET', 'tenants/unicode')).body.env, env)
})
