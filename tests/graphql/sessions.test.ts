/** 2.2 sessions: Identity.sessions with tracking, revokeSession, forceSignOutPerson (mail via a real SMTP sink), signOut.logoutUrl. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql, request } from '../helpers/http.js'
import { assertForbidden, createPerson, globalKey, personSession, signInToken } from '../helpers/accounts.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'

let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl, MAIL_FROM: 'gateway@example.com' } })
})
after(async () => {
  await server.close()
  await sink.close()
})

const SESSION_FIELDS = 'id createdAt expiresAt lastUsedAt lastIp lastUserAgent createdIp createdUserAgent isCurrent trustForwardedClientInfo'
const MY_SESSIONS = `{ me { sessions { ${SESSION_FIELDS} } } }`
const SESSIONS_OF = `query($id: String!) { personById(id: $id) { identity { sessions { id isCurrent } } } }`
const REVOKE = 'mutation($id: String!) { revokeSession(sessionId: $id) { ok error { code developerMessage } } }'
const FORCE = 'mutation($id: String!, $reason: String) { forceSignOutPerson(personId: $id, reason: $reason) { ok error { code developerMessage } } }'
const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok result { token } } }'

/** A GraphQL POST with a chosen User-Agent (fetch lets Node set it). */
function gqlAs(userAgent: string, token: string, query: string, variables?: Record<string, unknown>) {
  return request(`${server.url}/tenant`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'user-agent': userAgent },
    body: JSON.stringify({ query, variables }),
  })
}

/** Tracking is written off the request path: read until it shows (or give up after a while). */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const value = await read()
    if (accept(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function signInAs(userAgent: string, email: string, password: string): Promise<string> {
  const response = await gqlAs(userAgent, LOGIN_TOKEN, SIGN_IN, { email, password })
  assert.equal(response.body.data.signIn.ok, true, JSON.stringify(response.body))
  return response.body.data.signIn.result.token
}

test('Identity.sessions: created IP/UA from sign-in, last IP/UA/time tracked, isCurrent, only active sessions', async () => {
  const alice = await createPerson(server.url)
  const first = await signInAs('agent-A/1.0', alice.email, alice.password)
  const second = await signInAs('agent-B/2.0', alice.email, alice.password)

  const listed = await gqlAs('agent-A/1.0', first, MY_SESSIONS)
  const sessions = listed.body.data.me.sessions
  assert.equal(sessions.length, 2)
  const a = sessions.find((s: any) => s.createdUserAgent === 'agent-A/1.0')
  const b = sessions.find((s: any) => s.createdUserAgent === 'agent-B/2.0')
  assert.ok(a && b)
  assert.equal(a.createdIp, '127.0.0.1')
  assert.equal(a.isCurrent, true)
  assert.equal(b.isCurrent, false)
  assert.equal(a.trustForwardedClientInfo, false)
  assert.ok(Date.parse(a.expiresAt) > Date.parse(a.createdAt))

  // The first session used with two user agents in turn: the change is written at once each time.
  const read = () => gqlAs('agent-A/1.0', second, MY_SESSIONS).then((r) => r.body.data.me.sessions.find((s: any) => s.id === a.id))
  let tracked = await eventually(read, (s) => s.lastUserAgent === 'agent-A/1.0')
  assert.equal(tracked.lastUserAgent, 'agent-A/1.0')
  assert.equal(tracked.lastIp, '127.0.0.1')
  assert.ok(tracked.lastUsedAt)
  await gqlAs('agent-C/3.0', first, '{ me { id } }')
  tracked = await eventually(read, (s) => s.lastUserAgent === 'agent-C/3.0')
  assert.equal(tracked.lastUserAgent, 'agent-C/3.0')
  assert.equal(tracked.createdUserAgent, 'agent-A/1.0')

  // The reading session sees itself as current.
  const fromSecond = (await gqlAs('x', second, MY_SESSIONS)).body.data.me.sessions
  assert.deepEqual(fromSecond.map((s: any) => [s.id, s.isCurrent]).sort(), [[a.id, false], [b.id, true]].sort())

  // Ended sessions are not listed.
  assert.equal((await gql(server.url, second, 'mutation { signOut { ok logoutUrl } }')).body.data.signOut.ok, true)
  const after = (await gql(server.url, first, MY_SESSIONS)).body.data.me.sessions
  assert.deepEqual(after.map((s: any) => s.id), [a.id])
})

test('signOut answers logoutUrl null for a session not federated through an IdP', async () => {
  const bob = await personSession(server.url)
  assert.deepEqual((await gql(server.url, bob.token, 'mutation { signOut { ok logoutUrl error { code } } }')).body,
    { data: { signOut: { ok: true, logoutUrl: null, error: null } } })
})

test('another identity\'s sessions: visible to super_admin only, otherwise []', async () => {
  const target = await personSession(server.url)
  const viewer = await personSession(server.url)
  const projectAdmin = await personSession(server.url, ['project_admin'])
  const asRoot = await gql(server.url, ROOT_TOKEN, SESSIONS_OF, { id: target.personId })
  assert.equal(asRoot.body.data.personById.identity.sessions.length, 1)
  assert.equal(asRoot.body.data.personById.identity.sessions[0].isCurrent, false)
  for (const token of [viewer.token, projectAdmin.token]) {
    const response = await gql(server.url, token, SESSIONS_OF, { id: target.personId })
    assert.deepEqual(response.body, { data: { personById: { identity: { sessions: [] } } } })
  }
  // A key without a person has no sessions of its own.
  const key = await globalKey(server.url, [])
  assert.deepEqual((await gql(server.url, key.token, MY_SESSIONS)).body, { data: { me: { sessions: [] } } })
})

test('revokeSession: ends one own session (its token then gets 401), audited with metadata.sessionId', async () => {
  const alice = await createPerson(server.url)
  const keep = await signInToken(server.url, alice.email, alice.password)
  const doomed = await signInToken(server.url, alice.email, alice.password)
  const sessions = (await gql(server.url, keep, MY_SESSIONS)).body.data.me.sessions
  const doomedId = sessions.find((s: any) => !s.isCurrent).id

  assert.deepEqual((await gql(server.url, keep, REVOKE, { id: doomedId })).body, { data: { revokeSession: { ok: true, error: null } } })
  const refused = await gql(server.url, doomed, '{ me { id } }')
  assert.equal(refused.status, 401)
  assert.match(refused.body.errors[0].message, /^Authorization failure: API key was disabled at /)
  assert.equal((await gql(server.url, keep, '{ me { id } }')).status, 200)

  const log = await gql(server.url, ROOT_TOKEN, 'query($f: AuthLogFilter) { authLog(filter: $f) { entries { type success personId metadata } } }',
    { f: { types: ['session_revoked_by_user'], personId: alice.personId } })
  assert.deepEqual(log.body.data.authLog.entries.map((e: any) => [e.type, e.success, e.personId, e.metadata.sessionId]),
    [['session_revoked_by_user', true, alice.personId, doomedId]])

  // The current session may revoke itself.
  const currentId = sessions.find((s: any) => s.isCurrent).id
  assert.equal((await gql(server.url, keep, REVOKE, { id: currentId })).body.data.revokeSession.ok, true)
  assert.equal((await gql(server.url, keep, '{ me { id } }')).status, 401)
})

test('revokeSession errors: SESSION_NOT_FOUND for ended, foreign, permanent, unknown and malformed ids; NOT_A_PERSON', async () => {
  const alice = await personSession(server.url)
  const bob = await personSession(server.url)
  const bobSession = (await gql(server.url, bob.token, MY_SESSIONS)).body.data.me.sessions[0].id
  const key = await globalKey(server.url, [])
  const spare = await signInToken(server.url, alice.email, alice.password)
  const spareId = (await gql(server.url, spare, MY_SESSIONS)).body.data.me.sessions.find((s: any) => s.isCurrent).id
  assert.equal((await gql(server.url, alice.token, REVOKE, { id: spareId })).body.data.revokeSession.ok, true)

  for (const id of [spareId, bobSession, key.apiKeyId, '00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
    assert.deepEqual((await gql(server.url, alice.token, REVOKE, { id })).body.data.revokeSession,
      { ok: false, error: { code: 'SESSION_NOT_FOUND', developerMessage: `Session ${id} was not found` } })
  }
  // Bob's session survived Alice's attempt.
  assert.equal((await gql(server.url, bob.token, '{ me { id } }')).status, 200)
  for (const token of [LOGIN_TOKEN, key.token]) {
    assert.deepEqual((await gql(server.url, token, REVOKE, { id: bobSession })).body.data.revokeSession,
      { ok: false, error: { code: 'NOT_A_PERSON', developerMessage: 'Only a person can revoke its sessions' } })
  }
})

test('forceSignOutPerson: every key of the person disabled (401), FORCED_SIGN_OUT mail with the reason, audited', async () => {
  const carol = await createPerson(server.url)
  const tokens = [await signInToken(server.url, carol.email, carol.password), await signInToken(server.url, carol.email, carol.password)]
  const response = await gql(server.url, ROOT_TOKEN, FORCE, { id: carol.personId, reason: 'Laptop <stolen>' })
  assert.deepEqual(response.body, { data: { forceSignOutPerson: { ok: true, error: null } } })
  for (const token of tokens) assert.equal((await gql(server.url, token, '{ me { id } }')).status, 401)

  const [mail] = await sink.waitForMailTo(carol.email)
  assert.equal(mail.subject, 'You have been signed out')
  assert.match(mail.html, /Laptop &lt;stolen&gt;/)
  assert.ok(mail.html.includes(carol.email))

  // The person can sign in again afterwards (not disabled), and sees no old session.
  const fresh = await signInToken(server.url, carol.email, carol.password)
  assert.equal((await gql(server.url, fresh, MY_SESSIONS)).body.data.me.sessions.length, 1)

  const log = await gql(server.url, ROOT_TOKEN, 'query($f: AuthLogFilter) { authLog(filter: $f) { entries { type targetPersonId metadata eventData } } }',
    { f: { types: ['forced_sign_out'], targetPersonId: carol.personId } })
  assert.deepEqual(log.body.data.authLog.entries.map((e: any) => [e.type, e.targetPersonId, e.metadata.reason, e.eventData.disabledKeys]),
    [['forced_sign_out', carol.personId, 'Laptop <stolen>', 2]])
})

test('forceSignOutPerson: PERSON_NOT_FOUND; forbidden without person:forceSignOut; an over-long reason is refused', async () => {
  for (const id of ['00000000-0000-0000-0000-000000000000', 'nope']) {
    assert.deepEqual((await gql(server.url, ROOT_TOKEN, FORCE, { id })).body.data.forceSignOutPerson,
      { ok: false, error: { code: 'PERSON_NOT_FOUND', developerMessage: `Person ${id} was not found` } })
  }
  const target = await personSession(server.url)
  const person = await personSession(server.url)
  const projectAdmin = await personSession(server.url, ['project_admin'])
  for (const token of [person.token, projectAdmin.token, LOGIN_TOKEN]) {
    assertForbidden(await gql(server.url, token, FORCE, { id: target.personId }), 'forceSignOutPerson', 'You are not allowed to force sign out a person')
  }
  assert.equal((await gql(server.url, target.token, '{ me { id } }')).status, 200)
  const long = await gql(server.url, ROOT_TOKEN, FORCE, { id: target.personId, reason: 'x'.repeat(1001) })
  assert.equal(long.body.errors[0].message, 'Invalid reason: at most 1000 characters.')
  assert.equal((await gql(server.url, target.token, '{ me { id } }')).status, 200)
})
