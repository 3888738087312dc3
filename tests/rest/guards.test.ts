/** Guards before the routes: IP allow list, X-API-Key, body size and content type. */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { createAllowList } from '../../src/domain/tenants-api/ip-allow-list.js'
import { createApiKey, deleteApiKey, formatApiKey } from '../../src/domain/tenants-api/api-keys.js'
import type { TestServer } from '../helpers/server.js'
import { call, KEY_SECRET, startRestServer } from './client.js'

describe('allow list matching', () => {
  test('IPs and CIDRs of both families, IPv4-mapped IPv6 judged as IPv4', () => {
    const list = createAllowList(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1'])
    assert.equal(list.allows('10.200.3.4'), true)
    assert.equal(list.allows('::ffff:10.1.1.1'), true)
    assert.equal(list.allows('192.168.1.7'), true)
    assert.equal(list.allows('192.168.1.8'), false)
    assert.equal(list.allows('2001:db8:1::5'), true)
    assert.equal(list.allows('2001:db9::1'), false)
    assert.equal(list.allows('::1'), true)
    assert.equal(list.allows('not-an-ip'), false)
    assert.equal(list.allows(undefined), false)
  })
})

describe('IP allow list over HTTP', () => {
  let blocked: TestServer
  let viaProxy: TestServer
  let untrusted: TestServer
  before(async () => {
    blocked = await startRestServer({ TENANTS_API_IP_ALLOW_LIST: '10.0.0.0/8' })
    viaProxy = await startRestServer({ CHEVERETO_TENANTS_API_IP_ALLOW_LIST: '203.0.113.5', TRUSTED_PROXIES: '127.0.0.1' })
    untrusted = await startRestServer({ TENANTS_API_IP_ALLOW_LIST: '203.0.113.5' })
  })
  after(async () => { await Promise.all([blocked.close(), viaProxy.close(), untrusted.close()]) })

  test('a peer outside the list gets 403 before the key is even looked at', async () => {
    const response = await call(blocked, 'GET', 'tenants', { key: false })
    assert.deepEqual(response.body, { statusCode: 403, code: 'ADDRESS_NOT_ALLOWED', error: 'Forbidden', message: 'Access denied from your IP address' })
  })

  test('X-Forwarded-For counts only from a trusted proxy', async () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.5' }
    assert.equal((await call(viaProxy, 'GET', 'tenants', { headers: forwarded })).status, 200)
    assert.equal((await call(viaProxy, 'GET', 'tenants', { headers: { 'x-forwarded-for': '198.51.100.1' } })).status, 403)
    assert.equal((await call(untrusted, 'GET', 'tenants', { headers: forwarded })).status, 403)
  })
})

describe('X-API-Key', () => {
  let server: TestServer
  before(async () => { server = await startRestServer() })
  after(async () => { await server.close() })

  test('missing and invalid keys are 401 with distinct messages', async () => {
    assert.deepEqual((await call(server, 'GET', 'tenants', { key: false })).body,
      { statusCode: 401, code: 'API_KEY_MISSING', error: 'Unauthorized', message: 'Missing X-API-Key header' })
    assert.deepEqual((await call(server, 'GET', 'tenants', { key: 'nope' })).body,
      { statusCode: 401, code: 'API_KEY_INVALID', error: 'Unauthorized', message: 'Invalid API key' })
  })

  test('keys in Chevereto format: valid, forged HMAC, unknown random part, expired, deleted', async () => {
    const ctx = server.runtime.ctx
    const { key, info } = await createApiKey(ctx, { name: 'provisioner' })
    assert.match(key, new RegExp(`^chv_${info.id}_[a-f0-9]{64}_[a-f0-9]{64}$`))
    assert.equal((await call(server, 'POST', 'auth/verify', { key })).status, 200)

    const [, id, random] = key.split('_')
    assert.equal((await call(server, 'GET', 'tenants', { key: `chv_${id}_${random}_${'0'.repeat(64)}` })).status, 401, 'forged HMAC')
    assert.equal((await call(server, 'GET', 'tenants', { key: formatApiKey(KEY_SECRET, Number(id), 'f'.repeat(64)) })).status, 401, 'right HMAC, not the stored key')
    assert.equal((await call(server, 'GET', 'tenants', { key: formatApiKey('other-secret', Number(id), random) })).status, 401, 'HMAC of another secret')

    const expiring = await createApiKey(ctx, { name: 'short-lived', expiresAt: new Date(Date.now() + 3600_000) })
    assert.equal((await call(server, 'GET', 'tenants', { key: expiring.key })).status, 200)
    await server.runtime.database.rows(sql`update tenants_api_key set expires_at = now() - interval '1 second' where id = ${expiring.info.id}`)
    assert.equal((await call(server, 'GET', 'tenants', { key: expiring.key })).status, 401, 'expired')

    assert.equal(await deleteApiKey(ctx, { name: 'provisioner' }), 1)
    assert.equal((await call(server, 'GET', 'tenants', { key })).status, 401, 'deleted')
  })

  test('the key is stored only as a hash', async () => {
    const { key } = await createApiKey(server.runtime.ctx, { name: 'hashed' })
    const rows = await server.runtime.database.rows<{ hash: string }>(sql`select hash from tenants_api_key where name = 'hashed'`)
    assert.match(rows[0].hash, /^[a-f0-9]{64}$/)
    assert.ok(!rows[0].hash.includes(key.split('_')[2]))
  })
})

describe('bodies', () => {
  let server: TestServer
  before(async () => { server = await startRestServer() })
  after(async () => { await server.close() })

  test('over 64 KiB is 413; just under is parsed', async () => {
    const big = JSON.stringify({ id: 'big', hostname: 'big.example.com', is_enabled: true, env: { PAD: 'x'.repeat(64 * 1024) } })
    const response = await call(server, 'POST', 'tenants', { body: big })
    assert.equal(response.status, 413)
    assert.equal(response.body.code, 'FST_ERR_CTP_BODY_TOO_LARGE')
    const fits = JSON.stringify({ id: 'fits', hostname: 'fits.example.com', is_enabled: true, env: { PAD: 'x'.repeat(60 * 1024) } })
    assert.equal((await call(server, 'POST', 'tenants', { body: fits })).status, 201)
  })

  test('a body with another content type is 415; without one, too', async () => {
    const body = '{"id":"plain","hostname":"plain.example.com","is_enabled":true}'
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', false] as const) {
      const response = await call(server, 'POST', 'tenants', { body, contentType })
      assert.equal(response.status, 415, String(contentType))
      assert.equal(response.body.code, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    }
    assert.equal((await call(server, 'POST', 'tenants', { body, contentType: 'application/json; charset=utf-8' })).status, 201)
  })

  test('malformed JSON is 400, never 500', async () => {
    for (const body of ['{"id":', 'null', '[]', '"text"', '{"id":"a","hostname":"a.example.com","is_enabled":"yes"}']) {
      const response = await call(server, 'POST', 'tenants', { body })
      assert.equal(response.status, 400, body)
      assert.deepEqual(Object.keys(response.body), ['statusCode', 'code', 'error', 'message'])
    }
  })

  test('an empty body with Content-Type: application/json is no body on GET, DELETE and auth/verify', async () => {
    assert.equal((await call(server, 'GET', 'tenants')).status, 200)
    assert.equal((await call(server, 'POST', 'auth/verify')).status, 200)
    assert.equal((await call(server, 'DELETE', 'tenants/fits')).status, 204)
    assert.equal((await call(server, 'DELETE', 'tenants-plans/none')).status, 404)
  })

  test('unknown routes under the prefix answer in the same error shape', async () => {
    const response = await call(server, 'GET', 'nothing-here')
    assert.equal(response.status, 404)
    assert.equal(response.body.code, 'ROUTE_NOT_FOUND')
  })
})
