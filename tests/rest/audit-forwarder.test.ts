/**
 * The audit log of REST actions behind a trusted proxy: the client address from X-Forwarded-For
 * and the proxy's own address as metadata.forwarderIp (2.2's field); without forwarding, or from
 * an untrusted peer, the peer is the client and no forwarder is recorded.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import type { TestServer } from '../helpers/server.js'
import { call, startRestServer } from './client.js'

let viaProxy: TestServer
let direct: TestServer
before(async () => {
  [viaProxy, direct] = await Promise.all([startRestServer({ TRUSTED_PROXIES: '127.0.0.1' }), startRestServer()])
})
after(async () => { await Promise.all([viaProxy.close(), direct.close()]) })

async function created(server: TestServer, id: string, headers: Record<string, string> = {}) {
  const response = await call(server, 'POST', 'tenants', { body: { id, hostname: `${id}.example.com`, is_enabled: true }, headers })
  assert.equal(response.status, 201, response.text)
  const [event] = await server.runtime.database.rows<{ ip_address: string, metadata: Record<string, unknown> | null }>(
    sql`select ip_address, metadata from audit_event where type = 'tenant_create' and tenant_id = ${id}`)
  return event
}

test('forwarded by a trusted proxy: the client from X-Forwarded-For, the proxy as metadata.forwarderIp', async () => {
  const event = await created(viaProxy, 'fwd1', { 'x-forwarded-for': '203.0.113.7' })
  assert.equal(event.ip_address, '203.0.113.7')
  assert.equal(event.metadata?.forwarderIp, '127.0.0.1')
})

test('not forwarded, or from an untrusted peer: the peer is the client, no forwarder', async () => {
  const plain = await created(viaProxy, 'fwd2')
  assert.equal(plain.ip_address, '127.0.0.1')
  assert.equal(plain.metadata?.forwarderIp, undefined)
  const untrusted = await created(direct, 'fwd3', { 'x-forwarded-for': '203.0.113.7' })
  assert.equal(untrusted.ip_address, '127.0.0.1')
  assert.equal(untrusted.metadata?.forwarderIp, undefined)
})
