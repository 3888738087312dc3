/**
 * HTTP limits on both surfaces (issue 8): body size 413, header size 431, Content-Type 415, and
 * the server timeouts that cut slow-loris clients: a request whose headers never finish gets
 * 408 and its socket closed within the headers timeout, an idle keep-alive socket within 5 s.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { gql, rawRequest, request } from '../helpers/http.js'
import { ROOT_TOKEN, type TestServer } from '../helpers/server.js'
import { call, PREFIX, startRestServer } from '../rest/client.js'

let server: TestServer
before(async () => { server = await startRestServer() })
after(async () => { await server?.close() })

const port = () => Number(new URL(server.url).port)

/** Opens a socket, writes `data`, and resolves with what came back and when the server closed it. */
function hold(data: string, giveUpMs: number): Promise<{ answer: string, closedAfterMs: number | undefined }> {
  return new Promise((resolve) => {
    const started = Date.now()
    let answer = ''
    const socket = connect(port(), '127.0.0.1', () => socket.write(data))
    socket.on('data', (chunk) => { answer += chunk.toString() })
    socket.on('error', () => { /* a reset after the answer: 'close' follows and reports it */ })
    const timer = setTimeout(() => { socket.destroy(); resolve({ answer, closedAfterMs: undefined }) }, giveUpMs)
    socket.on('close', () => { clearTimeout(timer); resolve({ answer, closedAfterMs: Date.now() - started }) })
  })
}

test('body size: over 1 MiB to /tenant and over 64 KiB to /_/api/4 is 413 in each surface\'s error shape', async () => {
  const graphql = await gql(server.url, ROOT_TOKEN, '{ me { id } }', { pad: 'x'.repeat(1100 * 1024) })
  assert.equal(graphql.status, 413)
  assert.deepEqual(graphql.body, { errors: [{ message: 'Request body is too large' }] })
  const rest = await call(server, 'POST', 'tenants', { body: { id: 'big', hostname: 'big.example.com', is_enabled: true, env: { PAD: 'x'.repeat(70 * 1024) } } })
  assert.equal(rest.status, 413)
  assert.equal(rest.body.code, 'FST_ERR_CTP_BODY_TOO_LARGE')
  assert.equal((await call(server, 'GET', 'tenants/big')).status, 404)
})

test('header size: 20 KiB of headers is 431 on both surfaces; the server still answers after', async () => {
  for (const path of ['/tenant', `${PREFIX}/tenants`]) {
    // One write on a raw socket: the server reads it all before answering, so its close is clean.
    const { answer } = await hold(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Pad: ${'x'.repeat(20 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`, 5_000)
    assert.match(answer, /^HTTP\/1\.1 431 /, path)
    assert.match(answer, /\r\nConnection: close\r\n/i, 'a keep-alive client must not reuse the socket the server destroys')
  }
  assert.equal((await gql(server.url, ROOT_TOKEN, '{ me { id } }')).status, 200)
})

test('Content-Type: a /tenant body that is not JSON is 415 with a GraphQL errors body', async () => {
  const query = JSON.stringify({ query: '{ me { id } }' })
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/graphql', undefined]) {
    const headers: Record<string, string> = { authorization: `Bearer ${ROOT_TOKEN}` }
    if (contentType) headers['content-type'] = contentType
    const response = await rawRequest(`${server.url}/tenant`, { method: 'POST', headers, body: query })
    assert.equal(response.status, 415, `${contentType}: ${response.text}`)
    assert.deepEqual(response.body, { errors: [{ message: `Content-Type must be application/json, got "${contentType ?? ''}"` }] })
  }
  const json = await request(`${server.url}/tenant`, { method: 'POST', headers: { authorization: `Bearer ${ROOT_TOKEN}`, 'content-type': 'application/json; charset=utf-8' }, body: query })
  assert.equal(json.status, 200, json.text)
  // No body at all is no media type to refuse: Contember's answer for a missing query.
  const empty = await rawRequest(`${server.url}/tenant`, { method: 'POST', headers: { authorization: `Bearer ${ROOT_TOKEN}` } })
  assert.equal(empty.status, 400)
  assert.deepEqual(empty.body, { errors: [{ message: 'Missing request query' }] })
})

test('Content-Type: a /_/api/4 body that is not JSON is 415 in the REST error shape', async () => {
  const response = await call(server, 'POST', 'tenants', { body: 'id=x', contentType: 'text/plain' })
  assert.equal(response.status, 415)
  assert.equal(response.body.statusCode, 415)
  assert.equal(response.body.code, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
})

test('server timeouts are set on the Node server', () => {
  const http = server.runtime.app.server
  assert.equal(http.headersTimeout, 10_000)
  assert.equal(http.requestTimeout, 30_000)
  assert.equal(http.keepAliveTimeout, 5_000)
  // Set by http.createServer from its options; @types/node does not declare it.
  assert.equal((http as unknown as { maxHeaderSize: number }).maxHeaderSize, 16 * 1024)
})

test('slow-loris: unfinished headers get 408 and a closed socket within the headers timeout; an idle keep-alive socket is closed after 5 s', async () => {
  const [slow, idle] = await Promise.all([
    hold('POST /tenant HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n', 20_000),
    hold('GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n', 20_000),
  ])
  assert.ok(slow.closedAfterMs !== undefined, 'the slow socket was never closed')
  // 10 s headers timeout, enforced by Node's sweep every 2 s.
  assert.ok(slow.closedAfterMs >= 9_500 && slow.closedAfterMs <= 14_000, `slow socket closed after ${slow.closedAfterMs} ms`)
  assert.match(slow.answer, /^HTTP\/1\.1 408 /)
  assert.ok(idle.closedAfterMs !== undefined, 'the idle socket was never closed')
  assert.match(idle.answer, /^HTTP\/1\.1 (200|404) /)
  assert.ok(idle.closedAfterMs >= 4_500 && idle.closedAfterMs <= 8_000, `idle keep-alive socket closed after ${idle.closedAfterMs} ms`)
})
