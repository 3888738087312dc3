/**
 * The tenant plane end to end, over real HTTP (DESIGN.md §1): what a provisioning script does
 * over REST, the tenant's people see and obey over GraphQL, and back. The steps build on each
 * other, in order: plan → tenant → Traefik router → install → sign-in → invites up to the limit
 * → LIMIT_EXCEEDED → plan upgrade → invite → disable (access refused, router gone) → enable →
 * REST password reset (old session dead) → audit → archive → restore → purge, after which no
 * table holds anything of the tenant.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { gql, rawRequest } from '../helpers/http.js'
import { ROOT_TOKEN, type TestServer } from '../helpers/server.js'
import { API_KEY, PREFIX, startRestServer } from '../rest/client.js'
import { assertOutcome, invite, MEMBER, projectBySlug, PROVISIONER_AGENT, rest, signIn, unmanagedInvite } from './plane.js'

const ID = 'plane1'
const HOSTNAME = 'plane1.saas.test'
const ADMIN_EMAIL = 'chief@corp.test'
const ADMIN_PASSWORD = 'chief-password-1'
const USERNAME = 'chiefuser'

let server: TestServer
const rows = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)
const traefik = async () => (await rawRequest(`${server.url}${PREFIX}/config/traefik`, { headers: { 'x-api-key': API_KEY } })).body.http

/** signIn refused (the exact code depends on the credential-stuffing policy: per-cause or INVALID_CREDENTIALS). */
function assertSignInRefused(response: { body: any }, message?: string): void {
  const result = response.body.data.signIn
  assert.equal(result.ok, false, message)
  assert.ok(['INVALID_PASSWORD', 'INVALID_CREDENTIALS', 'PERSON_DISABLED'].includes(result.error.code), result.error.code)
}

/** What the story carries from step to step. */
const state: { projectId?: string, adminToken?: string, adminPassword?: string, adminIdentity?: string, keyToken?: string, keyIdentity?: string, invitees: string[] } = { invitees: [] }

before(async () => { server = await startRestServer({ CHEVERETO_HOSTNAME: 'saas.test' }) })
after(async () => { await server.close() })

test('plan → tenant: the tenant\'s project exists at once and GraphQL sees it with its hosting facts', async () => {
  await rest(server, 'POST', 'tenants-plans', 201, { id: 'small', limits: { CHEVERETO_MAX_USERS: '3', CHEVERETO_MAX_ADMINS: '1' } })
  const created = await rest(server, 'POST', 'tenants', 201, { id: ID, hostname: HOSTNAME, is_enabled: true, plan_id: 'small' })
  assert.equal(created.headers.get('x-tenant-project'), 'created')
  const [{ project_id: projectId }] = await rows<{ project_id: string }>(sql`select project_id from tenant where id = ${ID}`)
  state.projectId = projectId
  const project = await projectBySlug(server, ROOT_TOKEN, ID)
  assert.deepEqual(project, {
    slug: ID,
    tenant: { id: ID, hostname: HOSTNAME, isEnabled: true, plan: { id: 'small' }, limits: { CHEVERETO_MAX_ADMINS: '1', CHEVERETO_MAX_USERS: '3' }, usage: { users: 0, admins: 0 } },
  })
})

test('a project made over GraphQL gets hosting attached by POST /tenants, and the answer says so', async () => {
  const made = await gql(server.url, ROOT_TOKEN, 'mutation { createProject(projectSlug: "side", options: { noDeployToken: true }) { ok } }')
  assert.equal(made.body.data.createProject.ok, true)
  assert.equal((await projectBySlug(server, ROOT_TOKEN, 'side'))!.tenant, null, 'no hosting row yet')
  const adopted = await rest(server, 'POST', 'tenants', 201, { id: 'side', hostname: 'side.saas.test', is_enabled: true })
  assert.equal(adopted.headers.get('x-tenant-project'), 'adopted')
  assert.equal((await projectBySlug(server, ROOT_TOKEN, 'side'))!.tenant!.hostname, 'side.saas.test')
})

test('Traefik shows the router (keyed by the tenant id) and the resolver answers for the hostname', async () => {
  const http = await traefik()
  assert.deepEqual(http.routers[ID], { rule: `Host(\`${HOSTNAME}\`)`, service: server.config.traefik.serviceName })
  assert.equal(http.routers['*'].rule, 'Host(`saas.test`)')
  const resolved = await rest(server, 'GET', `resolve?hostname=${HOSTNAME.toUpperCase()}`, 200)
  assert.deepEqual(resolved.body, { tenant_id: ID, hostname: HOSTNAME, is_enabled: true, limits: { CHEVERETO_MAX_ADMINS: '1', CHEVERETO_MAX_USERS: '3' }, env: {} })
})

test('install → the administrator signs in over GraphQL and sees the tenant as its admin', async () => {
  await rest(server, 'POST', `tenants/${ID}/install`, 201, { username: USERNAME, email: ADMIN_EMAIL, password: ADMIN_PASSWORD })
  const signedIn = await signIn(server, ADMIN_EMAIL, ADMIN_PASSWORD)
  assertOutcome(signedIn, 'signIn', true)
  state.adminToken = signedIn.body.data.signIn.result.token
  state.adminIdentity = signedIn.body.data.signIn.result.person.identity.id
  const project = await projectBySlug(server, state.adminToken!, ID)
  assert.deepEqual(project!.tenant!.usage, { users: 1, admins: 1 })
  // A member who is not an admin sees the project but not its hosting facts (checked below, after an invite).
})

test('invites up to the limit, then LIMIT_EXCEEDED; the admin limit counts too', async () => {
  for (const email of ['first@corp.test', 'second@corp.test']) {
    const response = await unmanagedInvite(server, state.adminToken!, ID, email)
    assertOutcome(response, 'unmanagedInvite', true)
    state.invitees.push(email)
  }
  assert.deepEqual((await projectBySlug(server, state.adminToken!, ID))!.tenant!.usage, { users: 3, admins: 1 })
  const refused = await invite(server, state.adminToken!, ID, 'third@corp.test')
  assertOutcome(refused, 'invite', 'LIMIT_EXCEEDED')
  assert.match(refused.body.data.invite.error.developerMessage, /CHEVERETO_MAX_USERS/)
  const [{ n }] = await rows<{ n: number }>(sql`select count(*)::int as n from person where email = 'third@corp.test'`)
  assert.equal(n, 0, 'the refused invite left nothing behind')
  // Re-inviting a member takes no new seat.
  assertOutcome(await unmanagedInvite(server, state.adminToken!, ID, 'first@corp.test'), 'unmanagedInvite', true)
  // A second admin is over CHEVERETO_MAX_ADMINS = 1.
  const firstIdentity = (await rows<{ identity_id: string }>(sql`select identity_id from person where email = 'first@corp.test'`))[0].identity_id
  const promote = await gql(server.url, state.adminToken!, `mutation($slug: String!, $id: String!) {
    updateProjectMember(projectSlug: $slug, identityId: $id, memberships: [{ role: "admin", variables: [] }]) { ok error { code } } }`, { slug: ID, id: firstIdentity })
  assertOutcome(promote, 'updateProjectMember', 'LIMIT_EXCEEDED')
  // A plain member sees the project but not the hosting facts.
  const memberSession = await signIn(server, 'first@corp.test', 'Invitee-password-1')
  const seen = await projectBySlug(server, memberSession.body.data.signIn.result.token, ID)
  assert.deepEqual(seen, { slug: ID, tenant: null })
})

test('plan upgrade over REST → the next invite succeeds; the resolver shows the new limits', async () => {
  await rest(server, 'POST', 'tenants-plans', 201, { id: 'large', limits: { CHEVERETO_MAX_USERS: '10', CHEVERETO_MAX_ADMINS: '2' } })
  await rest(server, 'PATCH', `tenants/${ID}`, 204, { plan_id: 'large' })
  assertOutcome(await invite(server, state.adminToken!, ID, 'third@corp.test'), 'invite', true)
  state.invitees.push('third@corp.test')
  assert.deepEqual((await rest(server, 'GET', `resolve?hostname=${HOSTNAME}`, 200)).body.limits, { CHEVERETO_MAX_ADMINS: '2', CHEVERETO_MAX_USERS: '10' })
  assert.deepEqual((await projectBySlug(server, state.adminToken!, ID))!.tenant!.usage, { users: 4, admins: 1 })
  // The admin mints a project API key while the tenant is enabled.
  const key = await gql(server.url, state.adminToken!, `mutation($slug: String!, $m: [MembershipInput!]!) {
    createApiKey(projectSlug: $slug, memberships: $m, description: "ci") { ok result { apiKey { token identity { id } } } } }`, { slug: ID, m: MEMBER })
  assertOutcome(key, 'createApiKey', true)
  state.keyToken = key.body.data.createApiKey.result.apiKey.token
  state.keyIdentity = key.body.data.createApiKey.result.apiKey.identity.id
  assert.equal((await projectBySlug(server, state.keyToken!, ID))!.slug, ID)
})

test('tenant disabled → its members and its project keys lose it, the router goes; nothing is deleted', async () => {
  const [{ n: before }] = await rows<{ n: number }>(sql`select count(*)::int as n from project_membership where project_id = ${state.projectId}::uuid`)
  await rest(server, 'PATCH', `tenants/${ID}`, 204, { is_enabled: false })
  assert.equal((await traefik()).routers[ID], undefined, 'router gone')
  assert.equal((await rest(server, 'GET', `resolve?hostname=${HOSTNAME}`, 200)).body.is_enabled, false)

  assert.equal(await projectBySlug(server, state.adminToken!, ID), null, 'hidden from its admin')
  const projects = await gql(server.url, state.adminToken!, '{ projects { slug } }')
  assert.deepEqual(projects.body.data.projects, [])
  const refusedInvite = await invite(server, state.adminToken!, ID, 'fourth@corp.test')
  assert.equal(refusedInvite.body.errors?.[0]?.extensions?.code, 'ForbiddenError', JSON.stringify(refusedInvite.body))
  const refusedKey = await gql(server.url, state.adminToken!, `mutation($slug: String!, $m: [MembershipInput!]!) {
    createApiKey(projectSlug: $slug, memberships: $m, description: "no") { ok } }`, { slug: ID, m: MEMBER })
  assert.equal(refusedKey.body.errors?.[0]?.extensions?.code, 'ForbiddenError')
  assert.equal(await projectBySlug(server, state.keyToken!, ID), null, 'the project key is refused too')

  const operator = await projectBySlug(server, ROOT_TOKEN, ID)
  assert.equal(operator!.tenant!.isEnabled, false, 'global admins still see it')
  const [{ n: after }] = await rows<{ n: number }>(sql`select count(*)::int as n from project_membership where project_id = ${state.projectId}::uuid`)
  assert.equal(after, before, 'no membership was deleted')
})

test('tenant enabled → everything works again as it was', async () => {
  await rest(server, 'PATCH', `tenants/${ID}`, 204, { is_enabled: true })
  assert.ok((await traefik()).routers[ID])
  assert.equal((await projectBySlug(server, state.adminToken!, ID))!.tenant!.isEnabled, true)
  assert.equal((await projectBySlug(server, state.keyToken!, ID))!.slug, ID)
})

test('REST password reset → the old session is dead (401), the old password fails, the new one works', async () => {
  const reset = await rest(server, 'PATCH', `tenants/${ID}/user-password-reset`, 200, { username: USERNAME })
  const me = await gql(server.url, state.adminToken!, '{ me { id } }')
  assert.equal(me.status, 401)
  assertSignInRefused(await signIn(server, ADMIN_EMAIL, ADMIN_PASSWORD))
  const fresh = await signIn(server, ADMIN_EMAIL, reset.body.password)
  assertOutcome(fresh, 'signIn', true)
  state.adminToken = fresh.body.data.signIn.result.token
  state.adminPassword = reset.body.password
  await rest(server, 'PATCH', `tenants/${ID}/user-password-reset`, 404, { username: 'nobody' })
})

test('one audit trail: REST and GraphQL events of the tenant, with actor, IP, user agent and request id', async () => {
  const page = (await rest(server, 'GET', `tenants/${ID}/audit?limit=500`, 200)).body
  const types = page.events.map((e: { type: string }) => e.type)
  for (const type of ['tenant_create', 'tenant_install', 'tenant_edit', 'tenant_user_password_reset', 'person_invite', 'api_key_create']) assert.ok(types.includes(type), type)
  const restEvent = page.events.find((e: { type: string }) => e.type === 'tenant_create')
  assert.equal(restEvent.actor.api_key_name, 'env')
  const graphqlEvent = page.events.find((e: { type: string }) => e.type === 'person_invite')
  assert.equal(graphqlEvent.actor.identity_id, state.adminIdentity)
  assert.equal(graphqlEvent.tenant_id, ID)
  assert.equal(restEvent.user_agent, PROVISIONER_AGENT)
  assert.equal(typeof graphqlEvent.user_agent, 'string')
  for (const event of [restEvent, graphqlEvent]) {
    assert.equal(event.ip_address, '127.0.0.1')
    assert.ok(event.request_id)
  }
  const stamps = page.events.map((e: { created_at: string }) => e.created_at)
  assert.deepEqual(stamps, [...stamps].sort().reverse(), 'newest first')
  const first = (await rest(server, 'GET', `tenants/${ID}/audit?limit=2`, 200)).body
  const second = (await rest(server, 'GET', `tenants/${ID}/audit?limit=2&offset=2`, 200)).body
  assert.equal(first.has_more, true)
  assert.deepEqual([...first.events, ...second.events].map((e: { id: string }) => e.id), page.events.slice(0, 4).map((e: { id: string }) => e.id))
})

test('delete without drop_tables archives (hidden, hostname freed, project key dead); restore brings it back', async () => {
  await rest(server, 'DELETE', `tenants/${ID}`, 204)
  await rest(server, 'GET', `tenants/${ID}`, 404)
  assert.ok(!(await rest(server, 'GET', 'tenants', 200)).body.some((t: { id: string }) => t.id === ID))
  assert.equal(await projectBySlug(server, ROOT_TOKEN, ID), null, 'gone from GraphQL')
  assert.equal((await traefik()).routers[ID], undefined)
  await rest(server, 'GET', `resolve?hostname=${HOSTNAME}`, 404)
  assert.equal((await gql(server.url, state.keyToken!, '{ me { id } }')).status, 401, 'project key disabled')
  assert.equal((await gql(server.url, state.adminToken!, '{ me { id } }')).status, 401, 'sessions of members of no other project ended')
  await rest(server, 'POST', `tenants/${ID}/restore`, 200)
  assert.equal((await projectBySlug(server, ROOT_TOKEN, ID))!.tenant!.hostname, HOSTNAME)
  assert.ok((await traefik()).routers[ID])
  const again = await signIn(server, ADMIN_EMAIL, state.adminPassword!)
  assertOutcome(again, 'signIn', true)
  state.adminToken = again.body.data.signIn.result.token
  assert.equal((await projectBySlug(server, state.adminToken!, ID))!.tenant!.usage.users, 4, 'members kept')
})

test('delete with drop_tables → nothing of the tenant left in any table; members with no other project disabled', async () => {
  // One invitee also belongs to another project: they keep working.
  assertOutcome(await unmanagedInvite(server, ROOT_TOKEN, 'side', 'second@corp.test'), 'unmanagedInvite', true)
  const personIds = await rows<{ id: string, email: string }>(sql`
    select pe.id, pe.email from person pe join project_membership m on m.identity_id = pe.identity_id where m.project_id = ${state.projectId}::uuid`)
  assert.equal(personIds.length, 4)
  await rest(server, 'DELETE', `tenants/${ID}`, 204, { drop_tables: true })

  const markers = [state.projectId!, HOSTNAME, USERNAME, state.keyIdentity!]
  const tables = await rows<{ table_name: string }>(sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`)
  assert.ok(tables.length >= 20, 'every table of the schema is checked')
  for (const { table_name: table } of tables) {
    for (const marker of markers) {
      const [{ n }] = await rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} t where t::text like ${'%' + marker + '%'}`)
      assert.equal(n, 0, `${table} still mentions ${marker}`)
    }
    const mentions = await rows<{ t: string }>(sql`select t::text as t from ${sql.identifier(table)} t where t::text like ${'%' + ID + '%'}`)
    if (table === 'audit_event') {
      assert.equal(mentions.length, 1, 'only the purge itself is recorded')
      assert.match(mentions[0].t, /tenant_purge/)
    } else {
      assert.deepEqual(mentions, [], `${table} still mentions ${ID}`)
    }
  }
  const persons = await rows<{ email: string, disabled: boolean }>(sql`select email, disabled_at is not null as disabled from person where email like '%@corp.test' order by email`)
  assert.deepEqual(persons, [
    { email: ADMIN_EMAIL, disabled: true },
    { email: 'first@corp.test', disabled: true },
    { email: 'second@corp.test', disabled: false },
    { email: 'third@corp.test', disabled: true },
  ])
  assertSignInRefused(await signIn(server, ADMIN_EMAIL, state.adminPassword!), 'with the right password: the person is disabled')
  assert.equal((await gql(server.url, state.adminToken!, '{ me { id } }')).status, 401, 'their sessions ended')
  assertOutcome(await signIn(server, 'second@corp.test', 'Invitee-password-1'), 'signIn', true)
  assert.equal((await traefik()).routers[ID], undefined)
  await rest(server, 'GET', `tenants/${ID}/audit`, 404)
})
