/** Tenants over HTTP: create/get/list/edit/delete/restore, merges, conflicts, races, audit. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import type { TestServer } from '../helpers/server.js'
import { call, startRestServer } from './client.js'
import { getTenant } from '../../src/domain/tenants/tenants.js'

let server: TestServer
before(async () => {
  server = await startRestServer({ TENANT_ENFORCED: '{"CHEVERETO_MAX_FILES":"500","CHEVERETO_ENABLE_CDN":"0"}' })
})
after(async () => { await server.close() })

const rows = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)

test('create answers 201 with the object and Location; get and list show it', async () => {
  const created = await call(server, 'POST', 'tenants', { body: { id: 'alpha', hostname: 'Alpha.Example.com', is_enabled: true } })
  assert.equal(created.status, 201)
  assert.equal(created.headers.get('location'), '/_/api/4/tenants/alpha')
  assert.equal(created.headers.get('x-tenant-project'), 'created')
  assert.deepEqual(Object.keys(created.body), ['id', 'hostname', 'is_enabled', 'created_at', 'updated_at', 'plan_id', 'limits', 'env', 'stats', 'last_job_at'])
  assert.equal(created.body.hostname, 'alpha.example.com')
  assert.match(created.body.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
  assert.deepEqual(created.body.limits, { CHEVERETO_MAX_FILES: '500' })
  assert.deepEqual(created.body.env, { CHEVERETO_ENABLE_CDN: '0', CHEVERETO_MAX_FILES: '500' })
  assert.deepEqual(created.body.stats, { users: 0, admins: 0, api_keys: 0, active_sessions: 0 })
  assert.deepEqual((await call(server, 'GET', 'tenants/alpha')).body, created.body)
  const list = await call(server, 'GET', 'tenants')
  assert.ok(list.body.some((t: { id: string }) => t.id === 'alpha'))
})

test('the tenant\'s project exists (slug = id, name = id)', async () => {
  const [projectRow] = await rows<{ slug: string, name: string }>(sql`select p.slug, p.name from project p join tenant t on t.project_id = p.id where t.id = 'alpha'`)
  assert.deepEqual(projectRow, { slug: 'alpha', name: 'alpha' })
})

test('a project without a tenant is adopted', async () => {
  await rows(sql`insert into project (slug, name) values ('beta', 'Beta project')`)
  const created = await call(server, 'POST', 'tenants', { body: { id: 'beta', hostname: 'beta.example.com', is_enabled: false } })
  assert.equal(created.status, 201)
  assert.equal(created.headers.get('x-tenant-project'), 'adopted', 'the answer says the project was adopted')
  const projects = await rows<{ n: number }>(sql`select count(*)::int as n from project where slug = 'beta'`)
  assert.equal(projects[0].n, 1)
})

test('plan merge: limits merge-patch (tenant null removes a plan key), env shallow, enforced on top; env encrypted at rest', async () => {
  assert.equal((await call(server, 'POST', 'tenants-plans', { body: { id: 'gold', limits: { CHEVERETO_MAX_USERS: '2', CHEVERETO_MAX_TAGS: '9' }, env: { A: 'plan', B: 'plan' } } })).status, 201)
  const created = await call(server, 'POST', 'tenants', {
    body: { id: 'gamma', hostname: 'gamma.example.com', is_enabled: true, plan_id: 'gold', limits: { CHEVERETO_MAX_USERS: '5', CHEVERETO_MAX_TAGS: null, CHEVERETO_MAX_FILES: '1' }, env: { B: 'tenant-secret-value', C: 'tenant' } },
  })
  assert.equal(created.status, 201)
  assert.deepEqual(created.body.limits, { CHEVERETO_MAX_FILES: '500', CHEVERETO_MAX_USERS: '5' })
  assert.deepEqual(created.body.env, { A: 'plan', B: 'tenant-secret-value', C: 'tenant', CHEVERETO_ENABLE_CDN: '0', CHEVERETO_MAX_FILES: '500' })
  const [stored] = await rows<{ env_encrypted: string }>(sql`select env_encrypted from tenant where id = 'gamma'`)
  assert.match(stored.env_encrypted, /^v1:/)
  assert.ok(!stored.env_encrypted.includes('tenant-secret-value'))
  const audit = await rows<{ event_data: unknown }>(sql`select event_data from audit_event where tenant_id = 'gamma'`)
  assert.ok(!JSON.stringify(audit).includes('tenant-secret-value'), 'audit never holds env values')
})

test('PATCH answers 204; {} clears, "" detaches the plan; unknown plan and taken hostname are 409', async () => {
  const edit = await call(server, 'PATCH', 'tenants/gamma', { body: { hostname: 'new-gamma.example.com', plan_id: '', env: {}, limits: { CHEVERETO_MAX_USERS: '7' } } })
  assert.equal(edit.status, 204)
  assert.equal(edit.text, '')
  const after = (await call(server, 'GET', 'tenants/gamma')).body
  assert.equal(after.hostname, 'new-gamma.example.com')
  assert.equal(after.plan_id, null)
  assert.deepEqual(after.env, { CHEVERETO_ENABLE_CDN: '0', CHEVERETO_MAX_FILES: '500' })
  assert.deepEqual(after.limits, { CHEVERETO_MAX_FILES: '500', CHEVERETO_MAX_USERS: '7' })
  assert.match(after.updated_at, /^\d{4}-/)
  const badPlan = await call(server, 'PATCH', 'tenants/gamma', { body: { plan_id: 'nope' } })
  assert.equal(badPlan.status, 409)
  assert.equal(badPlan.body.code, 'PLAN_NOT_FOUND')
  const taken = await call(server, 'PATCH', 'tenants/gamma', { body: { hostname: 'alpha.example.com' } })
  assert.equal(taken.status, 409)
  assert.equal(taken.body.code, 'HOSTNAME_TAKEN')
  assert.equal((await call(server, 'PATCH', 'tenants/missing', { body: { is_enabled: true } })).status, 404)
  const empty = await call(server, 'PATCH', 'tenants/gamma', { body: {} })
  assert.equal(empty.status, 400)
})

test('create: duplicate id, duplicate hostname, unknown plan are 409', async () => {
  const dupId = await call(server, 'POST', 'tenants', { body: { id: 'alpha', hostname: 'other.example.com', is_enabled: true } })
  assert.equal(dupId.status, 409)
  assert.equal(dupId.body.code, 'TENANT_EXISTS')
  const dupHost = await call(server, 'POST', 'tenants', { body: { id: 'delta', hostname: 'ALPHA.example.com', is_enabled: true } })
  assert.equal(dupHost.status, 409)
  assert.equal(dupHost.body.code, 'HOSTNAME_TAKEN')
  const badPlan = await call(server, 'POST', 'tenants', { body: { id: 'delta', hostname: 'delta.example.com', is_enabled: true, plan_id: 'nope' } })
  assert.equal(badPlan.status, 409)
  assert.equal(badPlan.body.code, 'PLAN_NOT_FOUND')
  assert.equal((await call(server, 'GET', 'tenants/delta')).status, 404, 'nothing partial was written')
})

test('validation: 400 naming the field, never 500', async () => {
  const cases: [unknown, RegExp][] = [
    [{ hostname: 'x.example.com', is_enabled: true }, /body\/id is required/],
    [{ id: 'x', is_enabled: true }, /body\/hostname is required/],
    [{ id: 'x', hostname: 'x.example.com' }, /body\/is_enabled is required/],
    [{ id: 'x', hostname: 'x.example.com', is_enabled: 'true' }, /body\/is_enabled must be boolean/],
    [{ id: 'bad@id', hostname: 'x.example.com', is_enabled: true }, /^id must be/],
    [{ id: '_x', hostname: 'x.example.com', is_enabled: true }, /^id must be/],
    [{ id: 'a23456789012345678', hostname: 'x.example.com', is_enabled: true }, /^id must be/],
    [{ id: 'x', hostname: 'bad host', is_enabled: true }, /^hostname must be/],
    [{ id: 'x', hostname: 'x`.example.com', is_enabled: true }, /^hostname must be/],
    [{ id: 'x', hostname: 'x.example.com', is_enabled: true, limits: { A: 1 } }, /body\/limits\/A must be string/],
    [{ id: 'x', hostname: 'x.example.com', is_enabled: true, env: { A: { nested: 'no' } } }, /body\/env\/A must be string/],
    [{ id: 'x', hostname: 'x.example.com', is_enabled: true, env: { 'bad key': 'v' } }, /env\/bad key/],
    [{ id: 'x', hostname: 'x.example.com', is_enabled: true, extra: 1 }, /body\/extra is not an allowed property/],
  ]
  for (const [body, message] of cases) {
    const response = await call(server, 'POST', 'tenants', { body })
    assert.equal(response.status, 400, JSON.stringify(body))
    assert.match(response.body.message, message)
  }
})

test('concurrent creates of one id: exactly one 201, the rest 409', async () => {
  const responses = await Promise.all(Array.from({ length: 6 }, (_, i) =>
    call(server, 'POST', 'tenants', { body: { id: 'race', hostname: `race${i}.example.com`, is_enabled: true } })))
  const statuses = responses.map((r) => r.status).sort()
  assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409])
  const projects = await rows<{ n: number }>(sql`select count(*)::int as n from project where slug = 'race'`)
  assert.equal(projects[0].n, 1)
})

test('concurrent creates of one hostname: exactly one 201', async () => {
  const responses = await Promise.all(Array.from({ length: 4 }, (_, i) =>
    call(server, 'POST', 'tenants', { body: { id: `samehost${i}`, hostname: 'same.example.com', is_enabled: true } })))
  assert.deepEqual(responses.map((r) => r.status).sort(), [201, 409, 409, 409])
})

test('DELETE archives: hidden, hostname freed, sessions and project keys disabled; restore brings it back', async () => {
  await call(server, 'POST', 'tenants', { body: { id: 'eps', hostname: 'eps.example.com', is_enabled: true } })
  const [{ project_id: projectId }] = await rows<{ project_id: string }>(sql`select project_id from tenant where id = 'eps'`)
  const [{ id: keyIdentity }] = await rows<{ id: string }>(sql`insert into identity (roles) values ('[]'::jsonb) returning id`)
  await rows(sql`insert into project_membership (project_id, identity_id, role) values (${projectId}::uuid, ${keyIdentity}::uuid, 'deployer')`)
  await rows(sql`insert into api_key (token_hash, type, identity_id) values (${'h'.repeat(64)}, 'permanent', ${keyIdentity}::uuid)`)
  assert.equal((await call(server, 'GET', 'tenants/eps')).body.stats.api_keys, 1)

  const deleted = await call(server, 'DELETE', 'tenants/eps')
  assert.equal(deleted.status, 204)
  assert.equal((await call(server, 'GET', 'tenants/eps')).status, 404)
  assert.ok(!(await call(server, 'GET', 'tenants')).body.some((t: { id: string }) => t.id === 'eps'))
  assert.equal((await call(server, 'DELETE', 'tenants/eps')).status, 404, 'already deleted')
  const [key] = await rows<{ disabled_at: unknown }>(sql`select disabled_at from api_key where identity_id = ${keyIdentity}::uuid`)
  assert.ok(key.disabled_at, 'project key disabled')
  const [archived] = await rows<{ archived_at: unknown }>(sql`select archived_at from project where id = ${projectId}::uuid`)
  assert.ok(archived.archived_at)

  const reuse = await call(server, 'POST', 'tenants', { body: { id: 'eps2', hostname: 'eps.example.com', is_enabled: true } })
  assert.equal(reuse.status, 201, 'hostname freed')
  assert.equal((await call(server, 'POST', 'tenants', { body: { id: 'eps', hostname: 'x-eps.example.com', is_enabled: true } })).status, 409, 'id still held')
  const blocked = await call(server, 'POST', 'tenants/eps/restore')
  assert.equal(blocked.status, 409)
  assert.equal(blocked.body.code, 'HOSTNAME_TAKEN')
  assert.equal((await call(server, 'DELETE', 'tenants/eps2', { body: { drop_tables: true } })).status, 204)
  const restored = await call(server, 'POST', 'tenants/eps/restore')
  assert.equal(restored.status, 200)
  assert.equal(restored.body.id, 'eps')
  assert.equal((await call(server, 'GET', 'tenants/eps')).status, 200)
  assert.equal((await call(server, 'POST', 'tenants/eps/restore')).body.code, 'TENANT_NOT_ARCHIVED')
  assert.equal((await call(server, 'POST', 'tenants/nobody/restore')).status, 404)
})

test('DELETE with drop_tables purges the tenant, its project and its rows in one go', async () => {
  await call(server, 'POST', 'tenants', { body: { id: 'zeta', hostname: 'zeta.example.com', is_enabled: true } })
  assert.equal((await call(server, 'POST', 'tenants/zeta/install', { body: { username: 'zadmin', email: 'z@example.com', password: 'zeta-password' } })).status, 201)
  const [{ project_id: projectId }] = await rows<{ project_id: string }>(sql`select project_id from tenant where id = 'zeta'`)
  const deleted = await call(server, 'DELETE', 'tenants/zeta', { body: { drop_tables: true } })
  assert.equal(deleted.status, 204)
  for (const table of ['tenant', 'project', 'project_membership', 'project_username']) {
    const column = table === 'project' ? 'id' : table === 'tenant' ? 'project_id' : 'project_id'
    const [{ n }] = await rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} where ${sql.identifier(column)} = ${projectId}::uuid`)
    assert.equal(n, 0, table)
  }
  const [person] = await rows<{ disabled_at: unknown }>(sql`select disabled_at from person where email = 'z@example.com'`)
  assert.ok(person, 'persons are global and stay')
  assert.ok(person.disabled_at, 'a person with no other membership is disabled')
  const events = await rows<{ type: string, event_data: Record<string, unknown> }>(sql`select type, event_data from audit_event where tenant_id = 'zeta' or project_id = ${projectId}::uuid`)
  assert.deepEqual(events.map((e) => e.type), ['tenant_purge'], 'the tenant\'s audit events are purged; only the purge is recorded')
  assert.ok(!JSON.stringify(events).includes('zadmin'))
  assert.equal((await call(server, 'DELETE', 'tenants/zeta', { body: { drop_tables: true } })).status, 404)
  assert.equal((await call(server, 'DELETE', 'tenants/alpha', { body: { drop_tables: 'yes' } })).status, 400)
  assert.equal((await call(server, 'DELETE', 'tenants/alpha', { body: '{"drop_tables":true', contentType: 'application/json' })).status, 400)
})

test('every mutation wrote one audit event with the REST actor, never an env value', async () => {
  const events = await rows<{ type: string, actor: string, tenant_id: string, ip_address: string, user_agent: string | null, request_id: string }>(
    sql`select type, actor, tenant_id, ip_address, user_agent, request_id from audit_event where type like 'tenant%' order by created_at, seq`)
  const types = new Set(events.map((e) => e.type))
  for (const type of ['tenant_create', 'tenant_edit', 'tenant_archive', 'tenant_restore', 'tenant_purge', 'tenants_plan_create']) assert.ok(types.has(type), type)
  for (const event of events) {
    assert.equal(event.actor, 'env')
    assert.equal(event.ip_address, '127.0.0.1')
    assert.ok(event.request_id)
  }
  const all = await rows(sql`select event_data from audit_event`)
  assert.ok(!JSON.stringify(all).includes('tenant-secret-value'))
})

test('stats count each member once: persons, admins, enabled permanent keys, live sessions of persons (get and list agree)', async () => {
  await call(server, 'POST', 'tenants', { body: { id: 'counted', hostname: 'counted.example.com', is_enabled: true } })
  const [{ project_id: projectId }] = await rows<{ project_id: string }>(sql`select project_id from tenant where id = 'counted'`)
  const identityWith = async (person: boolean) => {
    const [{ id }] = await rows<{ id: string }>(sql`insert into identity (roles) values ('[]'::jsonb) returning id`)
    if (person) await rows(sql`insert into person (identity_id, email) values (${id}::uuid, ${`${id}@example.com`})`)
    return id
  }
  const member = (identityId: string, role: string) =>
    rows(sql`insert into project_membership (project_id, identity_id, role) values (${projectId}::uuid, ${identityId}::uuid, ${role})`)
  let n = 0
  const key = (identityId: string, type: string, extra: { expiresAt?: string, disabled?: boolean } = {}) => rows(sql`
    insert into api_key (token_hash, type, identity_id, expires_at, disabled_at)
    values (${`counted-${n++}`.padEnd(64, '0')}, ${type}, ${identityId}::uuid, ${extra.expiresAt ?? null}::timestamptz, ${extra.disabled ? new Date().toISOString() : null}::timestamptz)`)
  const hour = 3600_000
  const admin = await identityWith(true) // admin and editor: one user, one admin
  await member(admin, 'admin')
  await member(admin, 'editor')
  await key(admin, 'session', { expiresAt: new Date(Date.now() + hour).toISOString() })
  await key(admin, 'session', { expiresAt: new Date(Date.now() - hour).toISOString() }) // expired
  await key(admin, 'session', { expiresAt: new Date(Date.now() + hour).toISOString(), disabled: true })
  const editor = await identityWith(true)
  await member(editor, 'editor')
  await key(editor, 'permanent')
  await key(editor, 'session') // no expiry: live
  const deployer = await identityWith(false) // a project key: not a user, its session is not a person's
  await member(deployer, 'deployer')
  await key(deployer, 'permanent')
  await key(deployer, 'permanent', { disabled: true })
  await key(deployer, 'session', { expiresAt: new Date(Date.now() + hour).toISOString() })
  await identityWith(true) // not a member: counts nowhere

  const expected = { users: 2, admins: 1, api_keys: 2, active_sessions: 2 }
  assert.deepEqual((await call(server, 'GET', 'tenants/counted')).body.stats, expected)
  const listed = (await call(server, 'GET', 'tenants')).body.find((t: { id: string }) => t.id === 'counted')
  assert.deepEqual(listed.stats, expected)
})

test('tenant reads issued together (most wait and share one round trip) each answer their own id; an unknown one is 404', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `together${i}`)
  for (const id of ids) await call(server, 'POST', 'tenants', { body: { id, hostname: `${id}.example.com`, is_enabled: true } })
  const { ctx } = server.runtime
  const answers = await Promise.all([...ids, 'together-missing', ids[0]].map((id) => getTenant(ctx, id).then((t) => t.hostname, (e: Error) => e.message)))
  assert.deepEqual(answers, [...ids.map((id) => `${id}.example.com`), 'Tenant "together-missing" not found', 'together0.example.com'])
})
