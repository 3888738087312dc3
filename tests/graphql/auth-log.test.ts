/** authLog (2.2): permission, entry mapping, every filter, offset pagination with hasMore, our extra event types. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql, request } from '../helpers/http.js'
import { createPerson, globalKey, personSession, uniqueEmail } from '../helpers/accounts.js'
import { CONTEMBER_AUTH_LOG_TYPES, EXTENSION_AUTH_LOG_TYPES } from '../../src/domain/audit/log-types.js'
import { recordAudit } from '../../src/domain/audit/record.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server.close() })

const ENTRY = 'id createdAt type success invokedByIdentityId personId targetPersonId personInputIdentifier errorCode errorMessage ipAddress userAgent identityProviderId metadata eventData'
const AUTH_LOG = `query($filter: AuthLogFilter, $limit: Int, $offset: Int) { authLog(filter: $filter, limit: $limit, offset: $offset) { hasMore entries { ${ENTRY} } } }`
const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code } } }'

const log = async (filter: Record<string, unknown>, extra: { limit?: number, offset?: number } = {}) => {
  const response = await gql(server.url, ROOT_TOKEN, AUTH_LOG, { filter, ...extra })
  assert.equal(response.status, 200, JSON.stringify(response.body))
  return response.body.data.authLog as { hasMore: boolean, entries: any[] }
}

test('authLog requires system:viewAuthLog (super_admin): others get ForbiddenError (HTTP 400, non-null root)', async () => {
  const person = await personSession(server.url)
  const projectAdmin = await personSession(server.url, ['project_admin'])
  const key = await globalKey(server.url, ['project_creator'])
  for (const token of [person.token, projectAdmin.token, key.token, LOGIN_TOKEN]) {
    const response = await gql(server.url, token, AUTH_LOG, {})
    assert.equal(response.status, 400)
    assert.equal(response.body.errors[0].message, 'You are not allowed to view the auth log')
    assert.deepEqual(response.body.errors[0].extensions, { code: 'ForbiddenError' })
    assert.equal(response.body.data, null)
  }
})

test('a failed and a successful sign-in map onto AuthLogEntry: actor, person, input, error, client IP and user agent', async () => {
  const alice = await createPerson(server.url)
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${LOGIN_TOKEN}`, 'user-agent': 'audit-agent/1' }
  for (const password of ['wrong-password', alice.password]) {
    await request(`${server.url}/tenant`, { method: 'POST', headers, body: JSON.stringify({ query: SIGN_IN, variables: { email: alice.email, password } }) })
  }
  const loginIdentity = (await gql(server.url, LOGIN_TOKEN, '{ me { id } }')).body.data.me.id
  const { entries, hasMore } = await log({ types: ['login'], personInputIdentifier: alice.email })
  assert.equal(hasMore, false)
  assert.equal(entries.length, 2)
  const [succeeded, failed] = entries
  assert.ok(Date.parse(succeeded.createdAt) >= Date.parse(failed.createdAt))
  assert.equal(failed.success, false)
  assert.equal(failed.errorCode, 'INVALID_PASSWORD')
  assert.equal(failed.errorMessage, 'Password does not match')
  for (const entry of entries) {
    assert.equal(entry.type, 'login')
    assert.equal(entry.personId, alice.personId)
    assert.equal(entry.invokedByIdentityId, loginIdentity)
    assert.equal(entry.personInputIdentifier, alice.email)
    assert.equal(entry.ipAddress, '127.0.0.1')
    assert.equal(entry.userAgent, 'audit-agent/1')
    assert.equal(entry.identityProviderId, null)
    assert.equal(typeof entry.metadata.requestId, 'string')
  }
  assert.equal(succeeded.success, true)
  assert.equal(succeeded.errorCode, null)
  assert.match(succeeded.eventData.apiKeyId, /^[0-9a-f-]{36}$/)
  assert.ok(!JSON.stringify(entries).includes(alice.password))
})

test('filters: types (OR), success, invokedByIdentityId, personId, targetPersonId, personInputIdentifier, created range', async () => {
  const admin = await personSession(server.url, ['super_admin'])
  const email = uniqueEmail('filtered')
  const signUp = await gql(server.url, admin.token, 'mutation($email: String!) { signUp(email: $email, password: "Correct-Horse-9") { ok result { person { id } } } }', { email })
  const targetId = signUp.body.data.signUp.result.person.id
  await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email, password: 'nope-nope' })
  await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email, password: 'Correct-Horse-9' })

  const byTarget = await log({ targetPersonId: targetId })
  assert.deepEqual(byTarget.entries.map((e) => [e.type, e.invokedByIdentityId, e.personId]), [['sign_up', admin.identityId, admin.personId]])
  const byActor = await log({ invokedByIdentityId: admin.identityId, types: ['sign_up'] })
  assert.deepEqual(byActor.entries.map((e) => e.targetPersonId), [targetId])

  const both = await log({ personInputIdentifier: email, types: ['sign_up', 'login'] })
  assert.deepEqual(both.entries.map((e) => [e.type, e.success]), [['login', true], ['login', false], ['sign_up', true]])
  assert.deepEqual((await log({ personInputIdentifier: email, success: false })).entries.map((e) => e.errorCode), ['INVALID_PASSWORD'])
  assert.deepEqual((await log({ personInputIdentifier: email, success: true, personId: targetId })).entries.map((e) => e.type), ['login'])

  const newest = both.entries[0].createdAt
  const oldest = both.entries[2].createdAt
  assert.equal((await log({ personInputIdentifier: email, createdAfter: newest })).entries.every((e) => e.createdAt >= newest), true)
  assert.ok((await log({ personInputIdentifier: email, createdAfter: newest })).entries.length >= 1)
  // createdBefore is exclusive: nothing of this person before its first event.
  assert.deepEqual((await log({ personInputIdentifier: email, createdBefore: oldest })).entries, [])
  assert.deepEqual((await log({ personInputIdentifier: email, createdAfter: new Date(Date.now() + 3_600_000).toISOString() })).entries, [])

  // Unknown type names match nothing (a client may ask for a type that has no entry yet); [] names none.
  assert.deepEqual((await log({ personInputIdentifier: email, types: ['idp_backchannel_logout'] })).entries, [])
  assert.deepEqual((await log({ personInputIdentifier: email, types: [] })).entries, [])
})

test('pagination: newest first, offset pages without overlap, hasMore, limit capped at 500, bad arguments named', async () => {
  // Five events about one person that no rate limit holds back: forced sign-outs.
  const target = await createPerson(server.url)
  for (let i = 0; i < 5; i++) {
    const forced = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!, $r: String) { forceSignOutPerson(personId: $id, reason: $r) { ok } }', { id: target.personId, r: `round ${i}` })
    assert.equal(forced.body.data.forceSignOutPerson.ok, true)
  }
  const filter = { targetPersonId: target.personId, types: ['forced_sign_out'] }
  const all = await log(filter)
  assert.equal(all.entries.length, 5)
  assert.equal(all.hasMore, false)
  assert.deepEqual(all.entries.map((e) => e.metadata.reason), ['round 4', 'round 3', 'round 2', 'round 1', 'round 0'])
  const pages = [await log(filter, { limit: 2 }), await log(filter, { limit: 2, offset: 2 }), await log(filter, { limit: 2, offset: 4 })]
  assert.deepEqual(pages.map((p) => p.hasMore), [true, true, false])
  assert.deepEqual(pages.flatMap((p) => p.entries.map((e) => e.id)), all.entries.map((e) => e.id))
  const times = all.entries.map((e) => Date.parse(e.createdAt))
  assert.deepEqual(times, [...times].sort((a, b) => b - a))
  assert.deepEqual(await log(filter, { offset: 5 }), { hasMore: false, entries: [] })

  const unfiltered = await log({}, { limit: 100_000 })
  assert.ok(unfiltered.entries.length <= 500 && unfiltered.entries.length > 5)

  const cases: [Record<string, unknown>, string][] = [
    [{ limit: 0 }, 'Invalid limit: must be at least 1.'],
    [{ offset: -1 }, 'Invalid offset: must not be negative.'],
    [{ filter: { personId: 'nope' } }, 'Invalid filter.personId: must be a UUID.'],
    [{ filter: { targetPersonId: 'nope' } }, 'Invalid filter.targetPersonId: must be a UUID.'],
    [{ filter: { invokedByIdentityId: 'nope' } }, 'Invalid filter.invokedByIdentityId: must be a UUID.'],
  ]
  for (const [variables, message] of cases) {
    const response = await gql(server.url, ROOT_TOKEN, AUTH_LOG, variables)
    assert.equal(response.status, 400, JSON.stringify(response.body))
    assert.equal(response.body.errors[0].message, message)
    assert.deepEqual(response.body.errors[0].extensions, { code: 'UserInputError' })
  }
  const badDate = await gql(server.url, ROOT_TOKEN, AUTH_LOG, { filter: { createdAfter: 'yesterday' } })
  assert.equal(badDate.status, 400)
  assert.match(badDate.body.errors[0].message, /DateTime must be an ISO 8601 string/)
})

test('events of one transaction share created_at and are listed newest first in reverse write order, on every page', async () => {
  const input = uniqueEmail('one-tx')
  const types = ['password_reset_init', 'email_verify_init', 'login', 'sign_out', 'person_disable', 'email_change']
  await server.runtime.database.db.transaction(async (tx) => {
    for (const type of types) await recordAudit(tx, undefined, { type, personInputIdentifier: input })
  })
  const all = await log({ personInputIdentifier: input })
  assert.equal(new Set(all.entries.map((e) => e.createdAt)).size, 1, 'one transaction, one created_at')
  assert.deepEqual(all.entries.map((e) => e.type), [...types].reverse())
  const pages = [await log({ personInputIdentifier: input }, { limit: 4 }), await log({ personInputIdentifier: input }, { limit: 4, offset: 4 })]
  assert.deepEqual(pages.flatMap((p) => p.entries.map((e) => e.id)), all.entries.map((e) => e.id))
})

test('types 2.2 lacks are shown under their own names (sign_up, bootstrap), and every type our code writes is listed', async () => {
  const bootstrap = await log({ types: ['bootstrap'] })
  assert.equal(bootstrap.entries.length, 1)
  assert.equal(bootstrap.entries[0].invokedByIdentityId, null)
  assert.ok((await log({ types: ['sign_up'] })).entries.length >= 1)

  // A source scan: the type literal of every recordAudit call is a 2.2 type or a documented extension.
  const listed = new Set([...CONTEMBER_AUTH_LOG_TYPES, ...Object.keys(EXTENSION_AUTH_LOG_TYPES)])
  const unlisted: string[] = []
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : []
  })
  let calls = 0
  for (const file of walk('src')) {
    const text = readFileSync(file, 'utf8')
    for (let at = text.indexOf('recordAudit('); at >= 0; at = text.indexOf('recordAudit(', at + 1)) {
      const type = /\btype:\s*([^,\n}]+)/.exec(text.slice(at, at + 400))
      if (!type) continue
      calls++
      for (const [, literal] of type[1].matchAll(/'([^']+)'/g)) if (!listed.has(literal)) unlisted.push(`${literal} (${file})`)
    }
  }
  assert.ok(calls > 40)
  assert.deepEqual(unlisted, [])
})
