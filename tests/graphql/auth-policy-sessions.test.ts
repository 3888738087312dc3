/**
 * Auth policies enforced on sessions: tokenExpiration caps the session (and the `expiration`
 * argument, createSessionToken too), the strictest of several policies wins, idleTimeout refuses
 * a session unused that long (401 like an expired key, audited once as session_expired_idle),
 * rememberMeAllowed: false accepts no long expiration and stops the sliding; each shaped session
 * is audited as session_policy_applied. The server's clock is moved by the test (the default
 * session lifetime is 30 minutes).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { createPerson, type TestPerson } from '../helpers/accounts.js'
import { MINUTE, trackedPolicies, movableClock, uniqueRole } from '../helpers/auth-policies.js'

const time = movableClock()
let server: TestServer
before(async () => { server = await startTestServer({ clock: time.clock }) })
after(async () => { await server.close() })

const { create: policy } = trackedPolicies(() => server.url)

const SIGN_IN = 'mutation($email: String!, $password: String!, $expiration: Int) { signIn(email: $email, password: $password, expiration: $expiration) { ok result { token } } }'
const ME = '{ me { sessions { id expiresAt isCurrent } } }'
const AUTH_LOG = 'query($filter: AuthLogFilter) { authLog(filter: $filter) { entries { type eventData metadata } } }'

async function signIn(who: TestPerson, expiration?: number): Promise<string> {
  const response = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: who.email, password: who.password, expiration })
  assert.equal(response.body.data.signIn.ok, true, JSON.stringify(response.body))
  return response.body.data.signIn.result.token
}

/** The current session of the token: its id and minutes left (rounded), read with the token itself. */
async function session(token: string): Promise<{ id: string, minutesLeft: number }> {
  const response = await gql(server.url, token, ME)
  assert.equal(response.status, 200, response.text)
  const current = response.body.data.me.sessions.find((s: any) => s.isCurrent)
  return { id: current.id, minutesLeft: Math.round((Date.parse(current.expiresAt) - time.now()) / MINUTE) }
}

const rows = <T>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)

/** Last-use tracking is written off the request path: wait until the key shows this use. */
async function usedNow(apiKeyId: string): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const [row] = await rows<{ last_used_at: string | null }>(sql`select last_used_at from api_key where id = ${apiKeyId}`)
    if (row.last_used_at && time.now() - new Date(row.last_used_at).getTime() < 5_000) return
    assert.ok(Date.now() < deadline, 'last use was not recorded')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const authLog = async (filter: Record<string, unknown>) => (await gql(server.url, ROOT_TOKEN, AUTH_LOG, { filter })).body.data.authLog.entries

test('tokenExpiration caps the session and the expiration argument (createSessionToken too); audited as session_policy_applied', async () => {
  const role = uniqueRole('ttl')
  const alice = await createPerson(server.url, { roles: [role] })
  assert.equal((await session(await signIn(alice, 1440))).minutesLeft, 1440, 'no policy yet')
  const policyId = await policy({ scope: 'global', roles: [role], tokenExpiration: 'PT2H' })
  assert.equal((await session(await signIn(alice, 1440))).minutesLeft, 120)
  assert.equal((await session(await signIn(alice, 45))).minutesLeft, 45, 'a shorter request is kept')
  assert.equal((await session(await signIn(alice))).minutesLeft, 30, 'the default is below the cap')
  const impersonated = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { createSessionToken(personId: $id, expiration: 600) { ok result { token } } }', { id: alice.personId })
  const viaAdmin = await session(impersonated.body.data.createSessionToken.result.token)
  assert.equal(viaAdmin.minutesLeft, 120)

  const [applied] = await authLog({ types: ['session_policy_applied'], personId: alice.personId })
  assert.deepEqual({ ...applied.eventData, expiresAt: undefined }, {
    apiKeyId: viaAdmin.id, policyIds: [policyId], requestedExpiration: 600, expiration: 120, expiresAt: undefined,
    idleTimeoutSeconds: null, fixedLifetime: false,
  })
  assert.equal((await authLog({ types: ['session_policy_applied'], personId: alice.personId })).length, 4)
})

test('several policies: the shortest tokenExpiration wins; an unrelated policy changes nothing', async () => {
  const [a, b] = [uniqueRole('a'), uniqueRole('b')]
  await policy({ scope: 'global', roles: [a], tokenExpiration: 'PT2H' })
  await policy({ scope: 'global', roles: [b], tokenExpiration: 'PT45M', rememberMeAllowed: true })
  const both = await createPerson(server.url, { roles: [a, b] })
  assert.equal((await session(await signIn(both, 1440))).minutesLeft, 45)
  const neither = await createPerson(server.url)
  assert.equal((await session(await signIn(neither, 1440))).minutesLeft, 1440)
  assert.deepEqual(await authLog({ types: ['session_policy_applied'], personId: neither.personId }), [])
})

test('idleTimeout: a session unused that long is refused with 401 and audited once; use keeps it alive', async () => {
  const role = uniqueRole('idle')
  await policy({ scope: 'global', roles: [role], idleTimeout: 'PT10M' })
  const bob = await createPerson(server.url, { roles: [role] })
  const carol = await createPerson(server.url)
  const token = await signIn(bob, 600)
  const other = await signIn(carol, 600)
  const { id } = await session(token)
  await usedNow(id)

  time.advance(9 * MINUTE)
  const stillListed = await gql(server.url, ROOT_TOKEN, 'query($id: String!) { personById(id: $id) { identity { sessions { id } } } }', { id: bob.personId })
  assert.deepEqual(stillListed.body.data.personById.identity.sessions, [{ id }], '9 minutes idle: still active')
  assert.equal((await gql(server.url, token, ME)).status, 200, '9 minutes idle')
  await usedNow(id)
  time.advance(9 * MINUTE)
  assert.equal((await gql(server.url, token, ME)).status, 200, '18 minutes after sign-in, 9 since the last use')
  await usedNow(id)

  time.advance(12 * MINUTE)
  // Idle past the timeout: no longer listed as active, even before the next attempt marks it expired.
  const listed = await gql(server.url, ROOT_TOKEN, 'query($id: String!) { personById(id: $id) { identity { sessions { id } } } }', { id: bob.personId })
  assert.deepEqual(listed.body.data.personById.identity.sessions, [])
  const refused = await gql(server.url, token, ME)
  assert.equal(refused.status, 401)
  assert.equal(refused.body.errors[0].code, 401)
  assert.match(refused.body.errors[0].message, /^Authorization failure: API key expired at \d{4}-\d\d-\d\dT/)
  assert.equal((await gql(server.url, other, ME)).status, 200, 'without the policy 12 idle minutes are nothing')

  const deadline = Date.now() + 10_000
  let events: any[] = []
  while (events.length === 0 && Date.now() < deadline) {
    events = await authLog({ types: ['session_expired_idle'], personId: bob.personId })
    if (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.equal((await gql(server.url, token, ME)).status, 401, 'and stays refused')
  await new Promise((resolve) => setTimeout(resolve, 100))
  events = await authLog({ types: ['session_expired_idle'], personId: bob.personId })
  assert.equal(events.length, 1)
  assert.equal(events[0].metadata.sessionId, id)
  const [row] = await rows<{ idle_timeout_seconds: number, expires_at: string }>(sql`select idle_timeout_seconds, expires_at from api_key where id = ${id}`)
  assert.equal(row.idle_timeout_seconds, 600)
  assert.ok(new Date(row.expires_at).getTime() < time.now(), 'marked expired')
})

test('rememberMeAllowed false: no expiration beyond the default, and no sliding past the first expiry', async () => {
  const role = uniqueRole('nore')
  await policy({ scope: 'global', roles: [role], rememberMeAllowed: false })
  const dave = await createPerson(server.url, { roles: [role] })
  const erin = await createPerson(server.url)
  const fixed = await signIn(dave, 10_080)
  const sliding = await signIn(erin, 30)
  assert.equal((await session(fixed)).minutesLeft, 30, 'a week was asked for: the default is given')
  assert.equal((await session(await signIn(dave, 10))).minutesLeft, 10, 'a shorter session is fine')
  const fixedId = (await session(fixed)).id
  const slidingId = (await session(sliding)).id
  await Promise.all([usedNow(fixedId), usedNow(slidingId)])

  time.advance(20 * MINUTE)
  const [fixedNow, slidingNow] = [await session(fixed), await session(sliding)]
  await Promise.all([usedNow(fixedId), usedNow(slidingId)])
  const [fixedAfter, slidingAfter] = [await session(fixed), await session(sliding)]
  assert.deepEqual([fixedNow.minutesLeft, fixedAfter.minutesLeft], [10, 10], 'the 30 minutes run from sign-in')
  assert.equal(slidingNow.minutesLeft, 10)
  assert.equal(slidingAfter.minutesLeft, 30, 'without the policy, use slides the expiry')

  time.advance(11 * MINUTE)
  assert.equal((await gql(server.url, fixed, ME)).status, 401)
  assert.equal((await gql(server.url, sliding, ME)).status, 200)
  const [applied] = await authLog({ types: ['session_policy_applied'], personId: dave.personId })
  assert.equal(applied.eventData.fixedLifetime, true)
})
