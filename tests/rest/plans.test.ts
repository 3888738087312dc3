/** Tenant plans over HTTP: create, get, list, edit, delete, and their effect on tenants. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import type { TestServer } from '../helpers/server.js'
import { call, startRestServer } from './client.js'

let server: TestServer
before(async () => { server = await startRestServer() })
after(async () => { await server.close() })

test('create 201 + Location; get; list; name accepted and ignored', async () => {
  const created = await call(server, 'POST', 'tenants-plans', { body: { id: 'basic_plan', name: 'Basic', limits: { CHEVERETO_MAX_USERS: '2' }, env: { SECRET_THING: 'plan-secret' } } })
  assert.equal(created.status, 201)
  assert.equal(created.headers.get('location'), '/_/api/4/tenants-plans/basic_plan')
  assert.deepEqual(Object.keys(created.body), ['id', 'created_at', 'updated_at', 'limits', 'env'])
  assert.deepEqual(created.body.limits, { CHEVERETO_MAX_USERS: '2' })
  assert.deepEqual(created.body.env, { SECRET_THING: 'plan-secret' })
  assert.deepEqual((await call(server, 'GET', 'tenants-plans/basic_plan')).body, created.body)
  assert.equal((await call(server, 'POST', 'tenants-plans', { body: { id: 'empty' } })).body.limits.constructor, Object)
  const list = await call(server, 'GET', 'tenants-plans')
  assert.deepEqual(list.body.map((p: { id: string }) => p.id), ['basic_plan', 'empty'])
  assert.deepEqual(list.body[1], { ...list.body[1], limits: {}, env: {} })
  const [stored] = await server.runtime.database.rows<{ env_encrypted: string }>(sql`select env_encrypted from plan where id = 'basic_plan'`)
  assert.ok(!stored.env_encrypted.includes('plan-secret'))
})

test('create errors: duplicate 409, invalid id and maps 400', async () => {
  const dup = await call(server, 'POST', 'tenants-plans', { body: { id: 'basic_plan' } })
  assert.equal(dup.status, 409)
  assert.equal(dup.body.code, 'PLAN_EXISTS')
  for (const body of [{}, { id: 'no spaces' }, { id: 'x', limits: { A: 2 } }, { id: 'x', limits: { A: null } }, { id: 'x', other: 1 }, { id: 'x', env: [] }]) {
    const response = await call(server, 'POST', 'tenants-plans', { body })
    assert.equal(response.status, 400, JSON.stringify(body))
  }
})

test('edit 204 replaces limits/env ({} clears) and tenants on the plan see the change', async () => {
  assert.equal((await call(server, 'POST', 'tenants', { body: { id: 'onplan', hostname: 'onplan.example.com', is_enabled: true, plan_id: 'basic_plan' } })).status, 201)
  const edit = await call(server, 'PATCH', 'tenants-plans/basic_plan', { body: { limits: { CHEVERETO_MAX_USERS: '3' }, env: {} } })
  assert.equal(edit.status, 204)
  const plan = (await call(server, 'GET', 'tenants-plans/basic_plan')).body
  assert.deepEqual(plan.limits, { CHEVERETO_MAX_USERS: '3' })
  assert.deepEqual(plan.env, {})
  assert.deepEqual((await call(server, 'GET', 'tenants/onplan')).body.limits, { CHEVERETO_MAX_USERS: '3' })
  assert.equal((await call(server, 'PATCH', 'tenants-plans/basic_plan', { body: {} })).status, 400)
  assert.equal((await call(server, 'PATCH', 'tenants-plans/nope', { body: { limits: {} } })).status, 404)
})

test('delete 204, then 404; its tenants lose the plan but stay', async () => {
  assert.equal((await call(server, 'DELETE', 'tenants-plans/basic_plan')).status, 204)
  assert.equal((await call(server, 'GET', 'tenants-plans/basic_plan')).status, 404)
  const missing = await call(server, 'DELETE', 'tenants-plans/basic_plan')
  assert.equal(missing.status, 404)
  assert.equal(missing.body.code, 'PLAN_NOT_FOUND')
  const tenant = (await call(server, 'GET', 'tenants/onplan')).body
  assert.equal(tenant.plan_id, null)
  assert.deepEqual(tenant.limits, {})
})
