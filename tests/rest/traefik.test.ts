/** GET /config/traefik: its own guard chain, schema-valid deterministic bytes, ETag, settings. */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { gunzipSync } from 'node:zlib'
import AjvDraft7 from 'ajv'
import { renderTraefikConfig, stableJson } from '../../src/traefik/render.js'
import { rawRequest } from '../helpers/http.js'
import type { TestServer } from '../helpers/server.js'
import { API_KEY, call, PREFIX, startRestServer } from './client.js'

const traefikSchema = JSON.parse(readFileSync(new URL('../fixtures/traefik-v3-file-provider.schema.json', import.meta.url), 'utf8'))
const ajv = new (AjvDraft7 as unknown as typeof AjvDraft7.default)({ strict: false, allErrors: true })
const validateTraefik = ajv.compile(traefikSchema)

function assertValidTraefik(document: unknown): void {
  assert.ok(validateTraefik(document), JSON.stringify(validateTraefik.errors))
}

const poll = (server: TestServer, headers: Record<string, string> = {}) =>
  rawRequest(`${server.url}${PREFIX}/config/traefik`, { headers: { 'x-api-key': API_KEY, ...headers } })

/** A poll that keeps the body as bytes (rawRequest decodes text), for the gzip representation. */
function pollBytes(server: TestServer, headers: Record<string, string>): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }> {
  const target = new URL(`${server.url}${PREFIX}/config/traefik`)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, headers: { 'x-api-key': API_KEY, ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('Chevereto settings, Cloudflare ranges, TLS', () => {
  let server: TestServer
  before(async () => {
    server = await startRestServer({
      CHEVERETO_HOSTNAME: 'saas.example.com', CHEVERETO_SERVICE_NAME: 'php', CHEVERETO_SERVICE_PORT: '8080',
      CHEVERETO_PROXY_ENTRYPOINT: 'websecure', CHEVERETO_PROXY_IP_ALLOW_LIST: '192.168.65.0/24,cloudflare',
      TRAEFIK_CERT_RESOLVER: 'cf',
    })
    for (const [id, enabled] of [['zulu', true], ['acme', true], ['off', false], ['gone', true]] as const) {
      assert.equal((await call(server, 'POST', 'tenants', { body: { id, hostname: `${id}.saas.example.com`, is_enabled: enabled } })).status, 201)
    }
    assert.equal((await call(server, 'DELETE', 'tenants/gone')).status, 204)
  })
  after(async () => { await server.close() })

  test('routers only for enabled live tenants, sorted; valid against the Traefik v3 schema', async () => {
    const response = await poll(server)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /application\/json/)
    assertValidTraefik(response.body)
    const http = response.body.http
    assert.deepEqual(Object.keys(http.routers), ['*', 'acme', 'zulu'], 'Chevereto\'s names: "*" for the root hostname, the tenant id for each tenant')
    assert.deepEqual(http.routers.acme, {
      entryPoints: ['websecure'], middlewares: ['allow-range'], rule: 'Host(`acme.saas.example.com`)', service: 'php', tls: { certResolver: 'cf' },
    })
    assert.equal(http.routers['*'].rule, 'Host(`saas.example.com`)')
    assert.deepEqual(http.services, { php: { loadBalancer: { passHostHeader: true, servers: [{ url: 'http://php:8080' }] } } })
    const ranges = http.middlewares['allow-range'].ipAllowList.sourceRange
    assert.equal(ranges[0], '192.168.65.0/24')
    assert.equal(ranges.length, 1 + 22)
    assert.ok(ranges.includes('2400:cb00::/32'))
  })

  test('deterministic bytes; ETag and 304; a change rebuilds the snapshot', async () => {
    const first = await poll(server)
    const second = await poll(server)
    assert.equal(first.text, second.text)
    const etag = first.headers.get('etag')!
    assert.match(etag, /^"[\w-]+"$/)
    const notModified = await poll(server, { 'if-none-match': etag })
    assert.equal(notModified.status, 304)
    assert.equal(notModified.text, '')
    assert.equal((await call(server, 'PATCH', 'tenants/off', { body: { is_enabled: true } })).status, 204)
    const changed = await poll(server, { 'if-none-match': etag })
    assert.equal(changed.status, 200)
    assert.notEqual(changed.headers.get('etag'), etag)
    assert.ok('off' in changed.body.http.routers)
    assert.equal((await call(server, 'PATCH', 'tenants/off', { body: { hostname: 'renamed.saas.example.com' } })).status, 204)
    assert.equal((await poll(server)).body.http.routers.off.rule, 'Host(`renamed.saas.example.com`)')
  })

  test('gzip when accepted (as Traefik\'s Go client asks): same document, own ETag, Vary, 304', async () => {
    const plain = await pollBytes(server, {})
    assert.equal(plain.status, 200)
    assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: identity')
    assert.match(String(plain.headers.vary), /accept-encoding/i)
    const zipped = await pollBytes(server, { 'accept-encoding': 'gzip' })
    assert.equal(zipped.status, 200)
    assert.equal(zipped.headers['content-encoding'], 'gzip')
    assert.match(String(zipped.headers.vary), /accept-encoding/i)
    assert.match(String(zipped.headers['content-type']), /application\/json/)
    const document = gunzipSync(zipped.body)
    assert.ok(document.equals(plain.body), 'the gzip representation decompresses to the identical bytes')
    assertValidTraefik(JSON.parse(document.toString('utf8')))
    assert.ok(zipped.body.length < plain.body.length)
    const etag = String(zipped.headers.etag)
    assert.match(etag, /^"[\w-]+"$/)
    assert.notEqual(etag, plain.headers.etag, 'each representation has its own ETag')
    assert.equal((await pollBytes(server, { 'accept-encoding': 'gzip', 'if-none-match': etag })).status, 304)
    assert.equal((await pollBytes(server, { 'accept-encoding': 'gzip', 'if-none-match': `W/${etag}` })).status, 304, 'weak comparison')
    assert.equal((await pollBytes(server, { 'if-none-match': etag })).status, 200, 'the gzip tag does not match the identity representation')
    assert.equal((await pollBytes(server, { 'accept-encoding': 'gzip;q=0, br' })).headers['content-encoding'], undefined, 'q=0 refuses gzip')
    const wildcard = await pollBytes(server, { 'accept-encoding': '*' })
    assert.equal(wildcard.headers['content-encoding'], 'gzip')
    assert.ok(gunzipSync(wildcard.body).equals(plain.body))
  })

  test('needs an API key, no signature; Chevereto\'s curl example works with the key added', async () => {
    assert.equal((await poll(server, { 'x-api-key': '' })).status, 401)
    assert.equal((await poll(server, { 'x-api-key': 'wrong' })).status, 401)
    assert.equal((await poll(server, { 'x-signature': 'garbage' })).status, 200, 'a signature is not looked at')
  })
})

describe('address checks judge the socket, never X-Forwarded-For', () => {
  let server: TestServer
  before(async () => {
    // Loopback is always allowed for the Traefik endpoint; the API allow list does not apply to it.
    server = await startRestServer({ TENANTS_API_IP_ALLOW_LIST: '10.0.0.0/8', TRUSTED_PROXIES: '127.0.0.1', TRAEFIK_CONFIG_ALLOW_LIST: '10.9.9.9' })
  })
  after(async () => { await server.close() })

  test('loopback peer allowed even with a forged X-Forwarded-For; the signed API uses its own list', async () => {
    assert.equal((await poll(server, { 'x-forwarded-for': '198.51.100.7' })).status, 200)
    assert.equal((await call(server, 'GET', 'tenants')).status, 403, 'signed API: 127.0.0.1 is not in 10.0.0.0/8')
  })
})

describe('rendering', () => {
  test('without entry point, allow list or resolver the document is minimal and still valid', () => {
    const document = renderTraefikConfig([{ id: 'b', hostname: 'b.example.com' }, { id: 'a', hostname: 'a.example.com' }],
      { rootHostname: 'localhost', serviceName: 'app', servicePort: 8080, proxyIpAllowList: [] })
    assertValidTraefik(document)
    assert.equal(stableJson(document), stableJson(JSON.parse(stableJson(document))))
    const http = (document as { http: Record<string, Record<string, unknown>> }).http
    assert.deepEqual(Object.keys(http.routers), ['*', 'a', 'b'])
    assert.equal(http.middlewares, undefined)
    assert.deepEqual(http.routers.a, { rule: 'Host(`a.example.com`)', service: 'app' })
  })
})
