/**
 * Every curl example of Chevereto's Tenants API documentation, run with the real curl exactly as
 * written, only with our host, key and signature filled in (the Traefik example gets the
 * X-API-Key header our endpoint, like Chevereto's, requires). GET, DELETE and auth/verify send
 * Content-Type: application/json with no body.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { sql } from 'drizzle-orm'
import type { TestServer } from '../helpers/server.js'
import { API_KEY, hmacHex, REQUEST_SECRET, startRestServer } from './client.js'

const run = promisify(execFile)
const examples = readFileSync(new URL('../fixtures/chevereto-curl-examples.txt', import.meta.url), 'utf8').trim().split(/\n\n(?=curl )/)

let server: TestServer
before(async () => { server = await startRestServer() })
after(async () => { await server.close() })

function find(method: string, path: string): string {
  const found = examples.filter((example) => example.startsWith(`curl -X ${method} "/_/api/4/${path}"`))
  assert.equal(found.length, 1, `${method} ${path}`)
  return found[0]
}

/** Fills in host, key and signature, runs the command with bash and curl; returns status and body. */
async function curl(example: string): Promise<{ status: number, body: string }> {
  const body = /-d '([\s\S]*?)'/.exec(example)?.[1] ?? ''
  let command = example
    .replace('curl ', `curl -s -w '\\n%{http_code}' `)
    .replace('"/_/api/4/', `"${server.url}/_/api/4/`)
    .replace('your_api_key', API_KEY)
    .replace('request_signature', hmacHex(REQUEST_SECRET, body))
  if (!command.includes('X-API-Key')) command += ` -H "X-API-Key: ${API_KEY}"`
  const { stdout } = await run('bash', ['-c', command])
  const at = stdout.lastIndexOf('\n')
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) }
}

test('the documentation lists fourteen examples and each of them works as written', async () => {
  assert.equal(examples.length, 14)
  const ran = new Set<string>()
  const expect = async (method: string, path: string, status: number) => {
    const example = find(method, path)
    ran.add(example)
    const response = await curl(example)
    assert.equal(response.status, status, `${method} ${path}: ${response.body}`)
    return response.body ? JSON.parse(response.body) : undefined
  }

  assert.deepEqual(await expect('POST', 'auth/verify', 200), { verified: true })
  assert.ok((await expect('GET', 'config/traefik', 200)).http.routers['*'])
  assert.deepEqual(await expect('GET', 'tenants', 200), [])
  await expect('POST', 'tenants-plans', 201)
  const tenant = await expect('POST', 'tenants', 201)
  assert.deepEqual([tenant.id, tenant.plan_id, tenant.limits, tenant.env], ['tenant123', 'basic_plan', { CHEVERETO_MAX_USERS: '2' }, { CUSTOM_VAR: 'value' }])
  assert.equal((await expect('GET', 'tenants/tenant123', 200)).hostname, 'tenant123.example.com')

  // The PATCH example moves the tenant to premium_plan, which must exist first.
  await server.runtime.database.rows(sql`insert into plan (id, limits) values ('premium_plan', '{"CHEVERETO_MAX_USERS":"10"}'::jsonb)`)
  await expect('PATCH', 'tenants/tenant123', 204)
  const edited = await expect('GET', 'tenants/tenant123', 200)
  assert.deepEqual([edited.hostname, edited.plan_id, edited.limits.CHEVERETO_MAX_USERS, edited.env.CUSTOM_VAR], ['new-tenant123.example.com', 'premium_plan', '5', 'new_value'])

  assert.deepEqual(await expect('POST', 'tenants/tenant123/install', 201), { tenant_id: 'tenant123', username: 'admin', email: 'admin@example.com' })
  // The reset example names the member "rodolfo": give the tenant such a member first.
  await server.runtime.database.rows(sql`
    with i as (insert into identity (roles) values ('["person"]'::jsonb) returning id),
         p as (insert into person (identity_id, email) select id, 'rodolfo@example.com' from i returning id, identity_id),
         m as (insert into project_membership (project_id, identity_id, role) select t.project_id, p.identity_id, 'member' from p, tenant t where t.id = 'tenant123')
    insert into project_username (project_id, person_id, username) select t.project_id, p.id, 'rodolfo' from p, tenant t where t.id = 'tenant123'`)
  assert.deepEqual(await expect('PATCH', 'tenants/tenant123/user-password-reset', 200), { username: 'rodolfo', password: 'mypassword' })

  assert.deepEqual((await expect('GET', 'tenants-plans', 200)).map((p: { id: string }) => p.id), ['basic_plan', 'premium_plan'])
  assert.deepEqual((await expect('GET', 'tenants-plans/basic_plan', 200)).limits, { CHEVERETO_MAX_USERS: '2' })
  await expect('PATCH', 'tenants-plans/basic_plan', 204)
  await expect('DELETE', 'tenants-plans/basic_plan', 204)
  await expect('DELETE', 'tenants/tenant123', 204)
  assert.equal(ran.size, 14)
  const [{ n }] = await server.runtime.database.rows<{ n: number }>(sql`select count(*)::int as n from tenant`)
  assert.equal(n, 0, 'drop_tables purged the tenant')
})
