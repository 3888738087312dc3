/** GET /resolve?hostname=: signed, from the routing snapshot, rebuilt on tenant and plan changes. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestServer } from '../helpers/server.js'
import { call, startRestServer } from './client.js'

let server: TestServer
before(async () => {
  server = await startRestServer({ TENANT_ENFORCED: '{"CHEVERETO_MAX_FILES":"500","CHEVERETO_CONTEXT":"saas"}' })
  assert.equal((await call(server, 'POST', 'tenants-plans', { body: { id: 'basic', limits: { CHEVERETO_MAX_USERS: '2' }, env: { PLAN_SECRET: 'p-secret' } } })).status, 201)
  assert.equal((await call(server, 'POST', 'tenants', { body: { id: 'shop', hostname: 'shop.example.com', is_enabled: true, plan_id: 'basic', env: { OWN: 'mine' } } })).status, 201)
})
after(async () => { await server.close() })

const resolve = (hostname: string, options: Parameters<typeof call>[3] = {}) => call(server, 'GET', `resolve?hostname=${encodeURIComponent(hostname)}`, options)

test('answers tenant id, enabled flag and the effective (decrypted) env and limits; no-store', async () => {
  const response = await resolve('SHOP.example.com')
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('cache-control'), 'no-store')
  assert.deepEqual(response.body, {
    tenant_id: 'shop', hostname: 'shop.example.com', is_enabled: true,
    limits: { CHEVERETO_MAX_FILES: '500', CHEVERETO_MAX_USERS: '2' },
    env: { CHEVERETO_CONTEXT: 'saas', CHEVERETO_MAX_FILES: '500', OWN: 'mine', PLAN_SECRET: 'p-secret' },
  })
  const tenant = (await call(server, 'GET', 'tenants/shop')).body
  assert.deepEqual([response.body.limits, response.body.env], [tenant.limits, tenant.env], 'the same merge as GET /tenants/{id}')
})

test('unknown hostname 404, bad or missing hostname 400, unsigned 401', async () => {
  const unknown = await resolve('nobody.example.com')
  assert.equal(unknown.status, 404)
  assert.equal(unknown.body.code, 'HOSTNAME_NOT_FOUND')
  assert.equal((await resolve('not a host')).status, 400)
  assert.equal((await call(server, 'GET', 'resolve')).status, 400)
  assert.equal((await resolve('shop.example.com', { sign: false })).status, 401)
})

test('a plan edit, a tenant edit, disable and delete show at once (the snapshot is invalidated)', async () => {
  assert.equal(await resolve('shop.example.com').then((r) => r.status), 200, 'snapshot built before the changes')
  assert.equal((await call(server, 'PATCH', 'tenants-plans/basic', { body: { limits: { CHEVERETO_MAX_USERS: '9' } } })).status, 204)
  assert.equal((await resolve('shop.example.com')).body.limits.CHEVERETO_MAX_USERS, '9')
  assert.equal((await call(server, 'PATCH', 'tenants/shop', { body: { is_enabled: false, hostname: 'store.example.com' } })).status, 204)
  assert.equal((await resolve('shop.example.com')).status, 404)
  assert.equal((await resolve('store.example.com')).body.is_enabled, false, 'disabled tenants resolve, flagged')
  assert.equal((await call(server, 'DELETE', 'tenants-plans/basic')).status, 204)
  assert.deepEqual((await resolve('store.example.com')).body.limits, { CHEVERETO_MAX_FILES: '500' })
  assert.equal((await call(server, 'DELETE', 'tenants/shop')).status, 204)
  assert.equal((await resolve('store.example.com')).status, 404)
})
