/** POST /tenants/{id}/install and PATCH /tenants/{id}/user-password-reset over HTTP. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import type { TestServer } from '../helpers/server.js'
import { call, startRestServer } from './client.js'

let server: TestServer
before(async () => {
  server = await startRestServer()
  for (const id of ['one', 'two']) {
    assert.equal((await call(server, 'POST', 'tenants', { body: { id, hostname: `${id}.example.com`, is_enabled: true } })).status, 201)
  }
})
after(async () => { await server.close() })

const rows = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)

test('install creates person, identity, admin membership and username atomically: 201', async () => {
  const response = await call(server, 'POST', 'tenants/one/install', { body: { username: 'admin', email: ' Admin@Example.com ', password: 'mypassword' } })
  assert.equal(response.status, 201)
  assert.deepEqual(response.body, { tenant_id: 'one', username: 'admin', email: 'admin@example.com' })
  const [member] = await rows<{ roles: string[], role: string, username: string, password_hash: string }>(sql`
    select i.roles, m.role, u.username, pe.password_hash from person pe
    join identity i on i.id = pe.identity_id
    join project_membership m on m.identity_id = i.id
    join project_username u on u.person_id = pe.id and u.project_id = m.project_id
    join tenant t on t.project_id = m.project_id where t.id = 'one' and pe.email = 'admin@example.com'`)
  assert.deepEqual(member.roles, ['person'])
  assert.equal(member.role, 'admin')
  assert.equal(member.username, 'admin')
  assert.match(member.password_hash, /^\$argon2id\$/)
  assert.ok(await server.runtime.ctx.passwords.verify(member.password_hash, 'mypassword').then((r) => r.valid))
  const stats = (await call(server, 'GET', 'tenants/one')).body.stats
  assert.deepEqual(stats, { users: 1, admins: 1, api_keys: 0, active_sessions: 0 })
})

test('a second install is 409; unknown tenant 404; validation names the field', async () => {
  const again = await call(server, 'POST', 'tenants/one/install', { body: { username: 'other', email: 'other@example.com', password: 'mypassword' } })
  assert.equal(again.status, 409)
  assert.equal(again.body.code, 'ALREADY_INSTALLED')
  assert.equal((await call(server, 'POST', 'tenants/none/install', { body: { username: 'abc', email: 'a@example.com', password: 'mypassword' } })).status, 404)
  const cases: [unknown, RegExp][] = [
    [{ email: 'a@example.com', password: 'mypassword' }, /body\/username is required/],
    [{ username: 'ab', email: 'a@example.com', password: 'mypassword' }, /^username/],
    [{ username: 'bad-name', email: 'a@example.com', password: 'mypassword' }, /^username/],
    [{ username: 'abc', email: 'not-an-email', password: 'mypassword' }, /^email/],
    [{ username: 'abc', email: 'a@example.com', password: 'short' }, /^password/],
    [{ username: 'abc', email: 'a@example.com', password: 'x'.repeat(129) }, /^password/],
  ]
  for (const [body, message] of cases) {
    const response = await call(server, 'POST', 'tenants/two/install', { body })
    assert.equal(response.status, 400, JSON.stringify(body))
    assert.match(response.body.message, message)
  }
  const [{ n }] = await rows<{ n: number }>(sql`select count(*)::int as n from project_membership m join tenant t on t.project_id = m.project_id where t.id = 'two'`)
  assert.equal(n, 0, 'no partial install')
})

test('an existing person is linked, not duplicated, and keeps their password', async () => {
  const response = await call(server, 'POST', 'tenants/two/install', { body: { username: 'boss', email: 'admin@example.com', password: 'a-different-password' } })
  assert.equal(response.status, 201)
  const [{ n }] = await rows<{ n: number }>(sql`select count(*)::int as n from person where email = 'admin@example.com'`)
  assert.equal(n, 1)
  const [{ memberships }] = await rows<{ memberships: number }>(sql`
    select count(*)::int as memberships from project_membership m join person pe on pe.identity_id = m.identity_id where pe.email = 'admin@example.com'`)
  assert.equal(memberships, 2)
  const [{ password_hash: hash }] = await rows<{ password_hash: string }>(sql`select password_hash from person where email = 'admin@example.com'`)
  assert.equal((await server.runtime.ctx.passwords.verify(hash, 'mypassword')).valid, true)
})

test('password reset: 200 with the password, no-store, new hash, every session of the person ended', async () => {
  const [{ identity_id: identityId }] = await rows<{ identity_id: string }>(sql`select identity_id from person where email = 'admin@example.com'`)
  for (const [i, type] of ['session', 'session', 'permanent'].entries()) {
    await rows(sql`insert into api_key (token_hash, type, identity_id, expires_at) values (${String(i).repeat(64)}, ${type}, ${identityId}::uuid, now() + interval '1 hour')`)
  }
  assert.equal((await call(server, 'GET', 'tenants/one')).body.stats.active_sessions, 2)
  const response = await call(server, 'PATCH', 'tenants/one/user-password-reset', { body: { username: 'admin', password: 'brand-new-password' } })
  assert.equal(response.status, 200)
  assert.deepEqual(response.body, { username: 'admin', password: 'brand-new-password' })
  assert.equal(response.headers.get('cache-control'), 'no-store')
  const keys = await rows<{ type: string, disabled_at: unknown }>(sql`select type, disabled_at from api_key where identity_id = ${identityId}::uuid order by type`)
  assert.deepEqual(keys.map((k) => [k.type, Boolean(k.disabled_at)]), [['permanent', false], ['session', true], ['session', true]])
  const [{ password_hash: hash }] = await rows<{ password_hash: string }>(sql`select password_hash from person where identity_id = ${identityId}::uuid`)
  assert.equal((await server.runtime.ctx.passwords.verify(hash, 'brand-new-password')).valid, true)
  assert.equal((await call(server, 'GET', 'tenants/one')).body.stats.active_sessions, 0)
})

test('password reset without a password generates a strong one; it works', async () => {
  const response = await call(server, 'PATCH', 'tenants/two/user-password-reset', { body: { username: 'boss' } })
  assert.equal(response.status, 200)
  assert.equal(response.body.username, 'boss')
  assert.match(response.body.password, /^[A-Za-z0-9_-]{24}$/)
  const [{ password_hash: hash }] = await rows<{ password_hash: string }>(sql`select password_hash from person where email = 'admin@example.com'`)
  assert.equal((await server.runtime.ctx.passwords.verify(hash, response.body.password)).valid, true)
})

test('password reset: unknown user or tenant 404, bad input 400', async () => {
  const unknownUser = await call(server, 'PATCH', 'tenants/one/user-password-reset', { body: { username: 'boss' } })
  assert.equal(unknownUser.status, 404, 'boss is a username in tenant two only')
  assert.equal(unknownUser.body.code, 'USER_NOT_FOUND')
  assert.equal((await call(server, 'PATCH', 'tenants/none/user-password-reset', { body: { username: 'admin' } })).status, 404)
  assert.equal((await call(server, 'PATCH', 'tenants/one/user-password-reset', { body: {} })).status, 400)
  assert.equal((await call(server, 'PATCH', 'tenants/one/user-password-reset', { body: { username: 'admin', password: 'short' } })).status, 400)
})

test('install and reset are audited without passwords', async () => {
  const events = await rows<{ type: string, event_data: unknown, actor: string }>(sql`select type, event_data, actor from audit_event where type in ('tenant_install', 'tenant_user_password_reset')`)
  assert.equal(events.filter((e) => e.type === 'tenant_install').length, 2)
  assert.equal(events.filter((e) => e.type === 'tenant_user_password_reset').length, 2)
  const text = JSON.stringify(events)
  for (const secret of ['mypassword', 'brand-new-password', 'a-different-password']) assert.ok(!text.includes(secret))
})
