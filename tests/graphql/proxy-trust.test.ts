/**
 * Proxy trust: X-Forwarded-For is believed only from a TRUSTED_PROXIES peer (the rightmost
 * address that is not a trusted proxy is the client); X-Contember-Client-IP/-User-Agent only
 * from a trusted peer AND for a key with trust_forwarded_info. Peers other than 127.0.0.1 are
 * other loopback addresses (localAddress). The client address is read from the audit log and
 * seen by the per-IP limits.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql, rawRequest } from '../helpers/http.js'
import { createPerson, globalKey, uniqueEmail } from '../helpers/accounts.js'

const TRUSTED_PEER = '127.0.0.2'
const UNTRUSTED_PEER = '127.0.0.3'
const SIGN_IN = 'mutation($email: String!) { signIn(email: $email, password: "Not-The-Password-1") { ok error { code } } }'

let server: TestServer
before(async () => { server = await startTestServer({ env: { TRUSTED_PROXIES: `${TRUSTED_PEER},10.0.0.0/8` } }) })
after(async () => { await server.close() })

/** A failed signIn from `peer` with these headers; returns the client address and user agent the audit log recorded. */
async function seenAs(peer: string, headers: Record<string, string>, token = LOGIN_TOKEN, url = server.url, db = server) {
  const email = uniqueEmail('proxy')
  const response = await rawRequest(`${url}/tenant`, {
    method: 'POST', localAddress: peer,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'user-agent': 'socket-agent', ...headers },
    body: JSON.stringify({ query: SIGN_IN, variables: { email } }),
  })
  assert.equal(response.status, 200, response.text)
  const [event] = await db.runtime.database.rows<{ ip_address: string, user_agent: string, forwarder_ip: string | null }>(
    sql`select ip_address, user_agent, metadata->>'forwarderIp' as forwarder_ip from audit_event where type = 'login' and person_input_identifier = ${email}`)
  return { ip: event.ip_address, userAgent: event.user_agent, forwarderIp: event.forwarder_ip, body: response.body }
}

test('an untrusted peer is the client, whatever X-Forwarded-For says', async () => {
  assert.deepEqual(await seenAs(UNTRUSTED_PEER, { 'x-forwarded-for': '203.0.113.9' }).then((s) => s.ip), UNTRUSTED_PEER)
  const plain = await startTestServer()
  try {
    assert.equal((await seenAs('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }, LOGIN_TOKEN, plain.url, plain)).ip, '127.0.0.1', 'loopback is not trusted by default')
  } finally {
    await plain.close()
  }
})

test('a trusted peer: the rightmost address that is not a trusted proxy', async () => {
  assert.equal((await seenAs(TRUSTED_PEER, { 'x-forwarded-for': '198.51.100.7' })).ip, '198.51.100.7')
  assert.equal((await seenAs(TRUSTED_PEER, { 'x-forwarded-for': '1.2.3.4, 198.51.100.7, 10.1.2.3' })).ip, '198.51.100.7', 'a client-supplied left part is ignored')
  assert.equal((await seenAs(TRUSTED_PEER, { 'x-forwarded-for': 'garbage, 10.1.2.3' })).ip, '10.1.2.3')
  assert.equal((await seenAs(TRUSTED_PEER, {})).ip, TRUSTED_PEER)
})

test('the audit log keeps the trusted proxy that named the client as metadata.forwarderIp', async () => {
  assert.equal((await seenAs(TRUSTED_PEER, { 'x-forwarded-for': '198.51.100.8' })).forwarderIp, TRUSTED_PEER)
  assert.equal((await seenAs(TRUSTED_PEER, {})).forwarderIp, null, 'no forwarder when the peer is the client')
  assert.equal((await seenAs(UNTRUSTED_PEER, { 'x-forwarded-for': '198.51.100.8' })).forwarderIp, null, 'an untrusted peer forwards nothing')
})

test('X-Contember-Client-IP / -User-Agent: only from a trusted peer for a key with trust_forwarded_info', async () => {
  const backend = await globalKey(server.url, ['login'])
  const named = { 'x-contember-client-ip': '192.0.2.44', 'x-contember-client-user-agent': 'end-user-browser' }
  assert.deepEqual(await seenAs(TRUSTED_PEER, named, backend.token).then((s) => [s.ip, s.userAgent]), [TRUSTED_PEER, 'socket-agent'], 'key without the flag')
  await server.runtime.database.rows(sql`update api_key set trust_forwarded_info = true where id = ${backend.apiKeyId}`)
  assert.deepEqual(await seenAs(TRUSTED_PEER, named, backend.token).then((s) => [s.ip, s.userAgent]), ['192.0.2.44', 'end-user-browser'])
  assert.deepEqual(await seenAs(UNTRUSTED_PEER, named, backend.token).then((s) => [s.ip, s.userAgent]), [UNTRUSTED_PEER, 'socket-agent'], 'untrusted peer')
  assert.deepEqual(await seenAs(TRUSTED_PEER, { 'x-contember-client-ip': 'not-an-ip' }, backend.token).then((s) => s.ip), TRUSTED_PEER)
})

test('the per-IP limit counts the resolved client: forged X-Forwarded-For from an untrusted peer gains nothing', async () => {
  const configured = await gql(server.url, ROOT_TOKEN, 'mutation { configure(config: { rateLimits: { loginPerIp: { limit: 1, window: "PT1H" } } }) { ok } }')
  assert.equal(configured.body.data.configure.ok, true)
  await createPerson(server.url)
  const code = async (peer: string, forwarded: string) => (await rawRequest(`${server.url}/tenant`, {
    method: 'POST', localAddress: peer,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${LOGIN_TOKEN}`, 'x-forwarded-for': forwarded },
    body: JSON.stringify({ query: SIGN_IN, variables: { email: uniqueEmail() } }),
  })).body.data.signIn.error.code
  assert.equal(await code(UNTRUSTED_PEER, '203.0.113.1'), 'INVALID_CREDENTIALS')
  assert.equal(await code(UNTRUSTED_PEER, '203.0.113.2'), 'RATE_LIMIT_EXCEEDED')
  assert.equal(await code(TRUSTED_PEER, '203.0.113.1'), 'INVALID_CREDENTIALS')
  assert.equal(await code(TRUSTED_PEER, '203.0.113.2'), 'INVALID_CREDENTIALS', 'another client behind the trusted proxy')
  assert.equal(await code(TRUSTED_PEER, '203.0.113.2'), 'RATE_LIMIT_EXCEEDED')
})
