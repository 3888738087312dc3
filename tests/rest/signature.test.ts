/** X-Signature: the reference vectors, both forms over HTTP, replay, rotation, strict mode. */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { legacySignature, strongSignature, verifySignature } from '../../src/domain/tenants-api/signature.js'
import { rawRequest } from '../helpers/http.js'
import type { TestServer } from '../helpers/server.js'
import { API_KEY, call, hmacHex, nowSeconds, PREFIX, REQUEST_SECRET, startRestServer, strongHeader } from './client.js'

const vectors = JSON.parse(readFileSync(new URL('../fixtures/signature-vectors.json', import.meta.url), 'utf8')) as {
  secret: string
  legacy: { body: string, signature: string }[]
  strong: { t: number, method: string, path: string, body: string, signature: string }[]
}

describe('reference vectors', () => {
  test('legacy form: hex HMAC-SHA256 of the raw body', () => {
    for (const vector of vectors.legacy) assert.equal(legacySignature(vectors.secret, vector.body), vector.signature)
  })

  test('strong form: MAC over t, method, path-with-query and body', () => {
    for (const vector of vectors.strong) {
      assert.equal(strongSignature(vectors.secret, vector.t, vector.method, vector.path, vector.body), vector.signature)
    }
  })

  test('verification accepts the vectors inside the window and rejects them outside it', () => {
    for (const vector of vectors.strong) {
      const input = {
        header: vector.signature, secrets: [vectors.secret], mode: 'strict' as const, method: vector.method,
        pathWithQuery: vector.path, body: Buffer.from(vector.body), toleranceSeconds: 300,
      }
      assert.equal(verifySignature({ ...input, nowSeconds: vector.t + 10 }).ok, true)
      assert.deepEqual(verifySignature({ ...input, nowSeconds: vector.t + 301 }), { ok: false, reason: 'expired' })
      assert.deepEqual(verifySignature({ ...input, nowSeconds: nowSeconds() }), { ok: false, reason: 'expired' })
    }
    const legacy = vectors.legacy[1]
    const base = { secrets: [vectors.secret], method: 'DELETE', pathWithQuery: '/x', body: Buffer.from(legacy.body), nowSeconds: 0, toleranceSeconds: 300 }
    assert.deepEqual(verifySignature({ ...base, header: legacy.signature, mode: 'legacy' }), { ok: true, form: 'legacy' })
    assert.deepEqual(verifySignature({ ...base, header: legacy.signature, mode: 'strict' }), { ok: false, reason: 'strong_required' })
    assert.deepEqual(verifySignature({ ...base, header: legacy.signature.toUpperCase(), mode: 'legacy' }), { ok: false, reason: 'mismatch' })
  })
})

describe('over HTTP, legacy mode (both forms)', () => {
  let server: TestServer
  before(async () => { server = await startRestServer() })
  after(async () => { await server.close() })

  test('the vectors\' own requests: a legacy signature of the empty body is accepted on GET and auth/verify', async () => {
    const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-signature': vectors.legacy[0].signature }
    assert.equal((await rawRequest(`${server.url}${PREFIX}/tenants`, { headers })).status, 200)
    assert.equal((await rawRequest(`${server.url}${PREFIX}/auth/verify`, { method: 'POST', headers })).status, 200)
    const create = vectors.legacy[2]
    const created = await rawRequest(`${server.url}${PREFIX}/tenants`, { method: 'POST', headers: { ...headers, 'x-signature': create.signature }, body: create.body })
    assert.equal(created.status, 201)
    assert.equal(created.body.id, 'acme')
  })

  test('the strong vectors are refused as expired (MAC right, clock wrong)', async () => {
    const vector = vectors.strong[1]
    const response = await rawRequest(server.url + vector.path, { headers: { 'x-api-key': API_KEY, 'x-signature': vector.signature } })
    assert.equal(response.status, 401)
    assert.equal(response.body.code, 'SIGNATURE_EXPIRED')
  })

  test('missing, wrong secret, tampered body, malformed', async () => {
    const missing = await call(server, 'GET', 'tenants', { sign: false })
    assert.deepEqual(missing.body, { statusCode: 401, code: 'SIGNATURE_MISSING', error: 'Unauthorized', message: 'Missing X-Signature header' })
    assert.equal((await call(server, 'GET', 'tenants', { secret: 'wrong-secret' })).body.code, 'SIGNATURE_INVALID')
    assert.equal((await call(server, 'GET', 'tenants', { sign: 'strong', secret: 'wrong-secret' })).body.code, 'SIGNATURE_INVALID')
    const body = JSON.stringify({ id: 'tampered', hostname: 'tampered.example.com', is_enabled: true })
    const tampered = await rawRequest(`${server.url}${PREFIX}/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-signature': hmacHex(REQUEST_SECRET, body) },
      body: body.replace('tampered.example', 'evil.example'),
    })
    assert.equal(tampered.status, 401)
    const t = nowSeconds()
    const strongTampered = await rawRequest(`${server.url}${PREFIX}/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-signature': strongHeader(REQUEST_SECRET, t, 'POST', `${PREFIX}/tenants`, body) },
      body: body.replace('tampered.example', 'evil.example'),
    })
    assert.equal(strongTampered.status, 401)
    assert.equal((await call(server, 'GET', 'tenants/tampered')).status, 404, 'nothing was written')
    for (const header of ['t=abc,v1=00', 't=1,v1=zz', `t=${t}`, 'v1=' + 'a'.repeat(64) + ',t=1=2']) {
      const response = await call(server, 'GET', 'tenants', { sign: false, headers: { 'x-signature': header } })
      assert.equal(response.status, 401, header)
    }
  })

  test('strong form: accepted once, wrong path and wrong method refused, replay refused', async () => {
    const t = nowSeconds()
    const path = `${PREFIX}/tenants-plans?x=1`
    const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-signature': strongHeader(REQUEST_SECRET, t, 'GET', path, '') }
    assert.equal((await rawRequest(server.url + path, { headers })).status, 200)
    const replay = await rawRequest(server.url + path, { headers })
    assert.equal(replay.status, 401)
    assert.equal(replay.body.code, 'SIGNATURE_REPLAYED')
    const otherPath = await rawRequest(`${server.url}${PREFIX}/tenants`, { headers: { ...headers, 'x-signature': strongHeader(REQUEST_SECRET, t + 1, 'GET', path, '') } })
    assert.equal(otherPath.body.code, 'SIGNATURE_INVALID')
    const otherQuery = await rawRequest(`${server.url}${PREFIX}/tenants-plans?x=2`, { headers: { ...headers, 'x-signature': strongHeader(REQUEST_SECRET, t + 2, 'GET', path, '') } })
    assert.equal(otherQuery.body.code, 'SIGNATURE_INVALID')
    const otherMethod = await rawRequest(server.url + path, { method: 'POST', headers: { ...headers, 'x-signature': strongHeader(REQUEST_SECRET, t + 3, 'GET', path, '') } })
    assert.equal(otherMethod.body.code, 'SIGNATURE_INVALID')
  })

  test('strong form under concurrency: 40 copies of one signature, exactly one accepted; 40 distinct ones, all accepted', async () => {
    const t = nowSeconds()
    const path = `${PREFIX}/tenants-plans?burst=1`
    const signed = (at: number) => ({ 'x-api-key': API_KEY, 'x-signature': strongHeader(REQUEST_SECRET, at, 'GET', path, '') })
    // Enough at once that claims wait for a free slot and go to the database together.
    const copies = await Promise.all(Array.from({ length: 40 }, () => rawRequest(server.url + path, { headers: signed(t - 100) })))
    assert.equal(copies.filter((r) => r.status === 200).length, 1)
    assert.ok(copies.filter((r) => r.status !== 200).every((r) => r.body.code === 'SIGNATURE_REPLAYED'))
    const distinct = await Promise.all(Array.from({ length: 40 }, (_, i) => rawRequest(server.url + path, { headers: signed(t - 101 - i) })))
    assert.deepEqual(distinct.map((r) => r.status), Array.from({ length: 40 }, () => 200))
  })

  test('strong form: timestamps outside the window are refused, both directions', async () => {
    for (const t of [nowSeconds() - 301, nowSeconds() + 400]) {
      const response = await call(server, 'GET', 'tenants', { sign: false, headers: { 'x-signature': strongHeader(REQUEST_SECRET, t, 'GET', `${PREFIX}/tenants`, '') } })
      assert.equal(response.body.code, 'SIGNATURE_EXPIRED')
    }
    const inside = await call(server, 'GET', 'tenants', { sign: false, headers: { 'x-signature': strongHeader(REQUEST_SECRET, nowSeconds() - 200, 'GET', `${PREFIX}/tenants`, '') } })
    assert.equal(inside.status, 200)
  })

  test('strong form: several v1 entries, one of them right', async () => {
    const t = nowSeconds()
    const good = strongHeader(REQUEST_SECRET, t, 'GET', `${PREFIX}/tenants`, '').split(',')[1]
    const header = `t=${t},v1=${'0'.repeat(64)},${good}`
    assert.equal((await call(server, 'GET', 'tenants', { sign: false, headers: { 'x-signature': header } })).status, 200)
  })

  test('the signature is checked on the raw bytes: whitespace matters, re-serialisation does not happen', async () => {
    const body = '{ "id" : "spaced", "hostname": "spaced.example.com", "is_enabled": true }'
    const response = await call(server, 'POST', 'tenants', { body })
    assert.equal(response.status, 201)
    const reordered = await rawRequest(`${server.url}${PREFIX}/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-signature': hmacHex(REQUEST_SECRET, body) },
      body: JSON.stringify(JSON.parse(body)),
    })
    assert.equal(reordered.status, 401)
  })
})

describe('rotation: two server secrets', () => {
  let server: TestServer
  before(async () => { server = await startRestServer({ TENANTS_API_REQUEST_SECRET: `new-secret-2,${REQUEST_SECRET}` }) })
  after(async () => { await server.close() })

  test('either secret signs, in both forms; a third does not', async () => {
    for (const secret of ['new-secret-2', REQUEST_SECRET]) {
      assert.equal((await call(server, 'GET', 'tenants', { secret })).status, 200)
      assert.equal((await call(server, 'GET', `tenants-plans?by=${secret}`, { secret, sign: 'strong' })).status, 200)
    }
    assert.equal((await call(server, 'GET', 'tenants', { secret: 'third' })).status, 401)
  })

  test('a request signed with both secrets is still usable once', async () => {
    const t = nowSeconds()
    const path = `${PREFIX}/tenants?rotation=1`
    const macA = strongHeader('new-secret-2', t, 'GET', path, '').split(',')[1]
    const macB = strongHeader(REQUEST_SECRET, t, 'GET', path, '').split(',')[1]
    const send = (header: string) => rawRequest(server.url + path, { headers: { 'x-api-key': API_KEY, 'x-signature': header } })
    assert.equal((await send(`t=${t},${macA},${macB}`)).status, 200)
    // Dropping one of the entries does not make it a new request.
    assert.equal((await send(`t=${t},${macB}`)).body.code, 'SIGNATURE_REPLAYED')
    assert.equal((await send(`t=${t},${macA}`)).body.code, 'SIGNATURE_REPLAYED')
  })
})

describe('strict mode', () => {
  let server: TestServer
  before(async () => { server = await startRestServer({ TENANTS_API_SIGNATURE_MODE: 'strict' }) })
  after(async () => { await server.close() })

  test('only the strong form is accepted', async () => {
    const legacy = await call(server, 'GET', 'tenants')
    assert.equal(legacy.status, 401)
    assert.equal(legacy.body.code, 'SIGNATURE_FORM_REQUIRED')
    assert.equal((await call(server, 'GET', 'tenants', { sign: 'strong' })).status, 200)
  })
})

describe('signing off', () => {
  let server: TestServer
  before(async () => { server = await startRestServer({ TENANTS_API_REQUEST_SECRET: undefined }) })
  after(async () => { await server.close() })

  test('without a request secret no signature is needed, the API key still is', async () => {
    assert.equal((await call(server, 'GET', 'tenants', { sign: false })).status, 200)
    assert.equal((await call(server, 'GET', 'tenants', { sign: false, key: false })).status, 401)
  })
})
