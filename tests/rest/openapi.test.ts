/**
 * openapi.yaml and the server agree: the routes registered under /_/api/4 are exactly the
 * operations of the document, and real responses (successes and errors) validate against the
 * schemas the document gives for their status.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { restRouteTable } from '../../src/rest/route-table.js'
import { rawRequest, type HttpResponse } from '../helpers/http.js'
import type { TestServer } from '../helpers/server.js'
import { API_KEY, call, PREFIX, startRestServer } from './client.js'

const DOC_ID = 'https://tenant-gateway.local/openapi.json'
const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'))
const ajv = new Ajv2020({ strict: false, allErrors: true })
;(addFormats as unknown as (a: Ajv2020) => void)(ajv)
ajv.addSchema({ ...doc, $id: DOC_ID })

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')
const operations = new Set<string>()
for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
  for (const method of Object.keys(item)) if (method !== 'parameters') operations.add(`${method.toUpperCase()} ${path}`)
}

let server: TestServer
before(async () => { server = await startRestServer() })
after(async () => { await server.close() })

test('registered routes and openapi operations are the same set', () => {
  const registered = new Set(restRouteTable(server.runtime.app.server).map((route) =>
    `${route.method} ${route.url.slice(PREFIX.length).replace(/:(\w+)/g, '{$1}')}`))
  assert.deepEqual([...registered].sort(), [...operations].sort())
  assert.equal(doc.openapi, '3.1.0')
})

const exercised = new Map<string, Set<number>>()

/** Validates a response against the document's schema for its operation and status. */
function check(method: string, path: string, response: HttpResponse): HttpResponse {
  const operation = `${method} ${path}`
  assert.ok(operations.has(operation), operation)
  const responses = doc.paths[path][method.toLowerCase()].responses
  const documented = responses[String(response.status)]
  assert.ok(documented, `${operation} answered ${response.status}, which openapi.yaml does not list`)
  const base = documented.$ref ? documented.$ref.slice(2).split('/') : ['paths', path, method.toLowerCase(), 'responses', String(response.status)]
  const resolved = documented.$ref ? base.reduce((node: any, key: string) => node[key], doc) : documented
  if (resolved.content) {
    const validate = ajv.compile({ $ref: `${DOC_ID}#/${pointer(...base, 'content', 'application/json', 'schema')}` })
    assert.ok(validate(response.body), `${operation} ${response.status}: ${JSON.stringify(validate.errors)} for ${response.text.slice(0, 300)}`)
  } else {
    assert.equal(response.text, '', `${operation} ${response.status} has no documented body`)
  }
  if (!exercised.has(operation)) exercised.set(operation, new Set())
  exercised.get(operation)!.add(response.status)
  return response
}

async function op(method: string, path: string, concrete: string, body?: unknown, options: Parameters<typeof call>[3] = {}) {
  return check(method, path, await call(server, method, `${PREFIX}${concrete}`, { body, ...options }))
}

test('responses of every operation validate against their schemas', async () => {
  await op('POST', '/auth/verify', '/auth/verify')
  await op('POST', '/auth/verify', '/auth/verify', undefined, { key: false })
  await op('POST', '/auth/verify', '/auth/verify', undefined, { sign: false })
  await op('POST', '/auth/verify', '/auth/verify', 'x', { contentType: 'text/plain' })
  await op('POST', '/auth/verify', '/auth/verify', '{"a":', {})
  await op('POST', '/auth/verify', '/auth/verify', JSON.stringify({ pad: 'x'.repeat(70_000) }))

  await op('POST', '/tenants-plans', '/tenants-plans', { id: 'p1', limits: { CHEVERETO_MAX_USERS: '2' }, env: { K: 'v' } })
  await op('POST', '/tenants-plans', '/tenants-plans', { id: 'p1' })
  await op('POST', '/tenants-plans', '/tenants-plans', { id: 'bad id' })
  await op('GET', '/tenants-plans', '/tenants-plans')
  await op('GET', '/tenants-plans/{id}', '/tenants-plans/p1')
  await op('GET', '/tenants-plans/{id}', '/tenants-plans/nope')
  await op('PATCH', '/tenants-plans/{id}', '/tenants-plans/p1', { env: {} })
  await op('PATCH', '/tenants-plans/{id}', '/tenants-plans/p1', {})
  await op('PATCH', '/tenants-plans/{id}', '/tenants-plans/nope', { env: {} })

  await op('POST', '/tenants', '/tenants', { id: 't1', hostname: 't1.example.com', is_enabled: true, plan_id: 'p1', env: { E: '1' } })
  await op('POST', '/tenants', '/tenants', { id: 't1', hostname: 't2.example.com', is_enabled: true })
  await op('POST', '/tenants', '/tenants', { id: 't2' })
  await op('GET', '/tenants', '/tenants')
  await op('GET', '/tenants/{id}', '/tenants/t1')
  await op('GET', '/tenants/{id}', '/tenants/nope')
  await op('PATCH', '/tenants/{id}', '/tenants/t1', { is_enabled: false })
  await op('PATCH', '/tenants/{id}', '/tenants/t1', { plan_id: 'nope' })
  await op('PATCH', '/tenants/{id}', '/tenants/t1', { nope: 1 })
  await op('PATCH', '/tenants/{id}', '/tenants/nope', { is_enabled: false })
  await op('POST', '/tenants/{id}/install', '/tenants/t1/install', { username: 'admin', email: 'admin@example.com', password: 'mypassword' })
  await op('POST', '/tenants/{id}/install', '/tenants/t1/install', { username: 'admin', email: 'admin@example.com', password: 'mypassword' })
  await op('POST', '/tenants/{id}/install', '/tenants/nope/install', { username: 'admin', email: 'admin@example.com', password: 'mypassword' })
  await op('POST', '/tenants/{id}/install', '/tenants/t1/install', { username: 'a' })
  await op('PATCH', '/tenants/{id}/user-password-reset', '/tenants/t1/user-password-reset', { username: 'admin' })
  await op('PATCH', '/tenants/{id}/user-password-reset', '/tenants/t1/user-password-reset', { username: 'ghost' })
  await op('PATCH', '/tenants/{id}/user-password-reset', '/tenants/t1/user-password-reset', { password: 'x' })
  await op('GET', '/resolve', '/resolve?hostname=T1.example.com')
  await op('GET', '/resolve', '/resolve?hostname=unknown.example.com')
  await op('GET', '/resolve', '/resolve')
  await op('GET', '/resolve', '/resolve?hostname=bad%20host')
  await op('GET', '/tenants/{id}/audit', '/tenants/t1/audit?limit=2')
  await op('GET', '/tenants/{id}/audit', '/tenants/t1/audit?limit=0')
  await op('GET', '/tenants/{id}/audit', '/tenants/t1/audit?page=1')
  await op('GET', '/tenants/{id}/audit', '/tenants/nope/audit')
  await op('DELETE', '/tenants/{id}', '/tenants/t1')
  await op('DELETE', '/tenants/{id}', '/tenants/t1')
  await op('DELETE', '/tenants/{id}', '/tenants/t1', { drop_tables: 1 })
  await op('POST', '/tenants/{id}/restore', '/tenants/t1/restore')
  await op('POST', '/tenants/{id}/restore', '/tenants/t1/restore')
  await op('POST', '/tenants/{id}/restore', '/tenants/nope/restore')
  await op('DELETE', '/tenants/{id}', '/tenants/t1', { drop_tables: true })
  await op('DELETE', '/tenants-plans/{id}', '/tenants-plans/p1')
  await op('DELETE', '/tenants-plans/{id}', '/tenants-plans/p1')

  const traefik = `${server.url}${PREFIX}/config/traefik`
  const first = check('GET', '/config/traefik', await rawRequest(traefik, { headers: { 'x-api-key': API_KEY } }))
  check('GET', '/config/traefik', await rawRequest(traefik, { headers: { 'x-api-key': API_KEY, 'if-none-match': first.headers.get('etag')! } }))
  check('GET', '/config/traefik', await rawRequest(traefik))

  for (const operation of operations) {
    const statuses = [...(exercised.get(operation) ?? [])]
    assert.ok(statuses.some((s) => s < 300), `${operation} was never exercised successfully`)
  }
})
