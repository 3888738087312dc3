/** A bad DateTime or Interval inside an input object is a 400 naming the problem, never a masked 500. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { gql } from '../helpers/http.js'
import { ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server?.close() })

test('bad scalar values nested in input variables (found by the reliability fuzzer) answer 400, not 500', async () => {
  // Mercurius compiles a query with graphql-jit from its second execution on (jit: 1): run each twice.
  const twice = async (query: string, variables: Record<string, unknown>) => {
    await gql(server.url, ROOT_TOKEN, query, variables)
    return gql(server.url, ROOT_TOKEN, query, variables)
  }
  const authLog = await twice('query($f: AuthLogFilter, $l: Int) { authLog(filter: $f, limit: $l) { __typename } }',
    { f: { success: false, invokedByIdentityId: false, createdAfter: '\uda6f\ude6e' }, l: [1] })
  assert.equal(authLog.status, 400, authLog.text)
  assert.ok(authLog.body.errors.some((e: { message: string }) => /DateTime/.test(e.message)), authLog.text)
  assert.ok(!authLog.text.includes('Internal server error'), authLog.text)

  const policy = await twice('mutation($p: AuthPolicyInput!) { createAuthPolicy(policy: $p) { __typename } }',
    { p: { scope: 'global', roles: ['x'], tokenExpiration: 'soon', idleTimeout: '<script>', mfaRequired: [1] } })
  assert.equal(policy.status, 400, policy.text)
  assert.ok(policy.body.errors.some((e: { message: string }) => /Interval/.test(e.message)), policy.text)
  assert.ok(!policy.text.includes('Internal server error'), policy.text)
})
