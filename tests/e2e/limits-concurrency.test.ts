/**
 * Plan limits under parallel requests (real HTTP; on PostgreSQL the requests really run at once
 * on separate connections): the tenant row lock lets exactly as many grants win as there are
 * free seats, whichever path adds the person. Plus the edges: 0 = unlimited, TENANT_ENFORCED
 * wins over plan and tenant, an install into a full tenant is 409, a lowered limit blocks only
 * new seats.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { gql } from '../helpers/http.js'
import { ROOT_TOKEN, type TestServer } from '../helpers/server.js'
import { startRestServer } from '../rest/client.js'
import { ADMIN, assertOutcome, MEMBER, projectBySlug, rest, unmanagedInvite } from './plane.js'

let server: TestServer
const rows = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)

before(async () => {
  // TENANT_ENFORCED caps admins at 2 for every tenant, whatever plan or tenant say.
  server = await startRestServer({ TENANT_ENFORCED: '{"CHEVERETO_MAX_ADMINS":"2"}' })
  await rest(server, 'POST', 'tenants-plans', 201, { id: 'tiny', limits: { CHEVERETO_MAX_USERS: '2', CHEVERETO_MAX_ADMINS: '9' } })
})
after(async () => { await server.close() })

async function tenantWithLimits(id: string, limits: Record<string, string | null>, planId = 'tiny') {
  await rest(server, 'POST', 'tenants', 201, { id, hostname: `${id}.limits.test`, is_enabled: true, plan_id: planId, limits })
}

async function usage(id: string) {
  return (await projectBySlug(server, ROOT_TOKEN, id))!.tenant!.usage
}

const codes = (responses: { body: any }[], field: string) =>
  responses.map((r) => (r.body.data[field].ok ? 'ok' : r.body.data[field].error.code)).sort()

test('two parallel invites at the last free seat: one wins, one gets LIMIT_EXCEEDED', async () => {
  await tenantWithLimits('seat1', {})
  assertOutcome(await unmanagedInvite(server, ROOT_TOKEN, 'seat1', 'a@seat1.test'), 'unmanagedInvite', true)
  const responses = await Promise.all(['b@seat1.test', 'c@seat1.test'].map((email) => unmanagedInvite(server, ROOT_TOKEN, 'seat1', email)))
  assert.deepEqual(codes(responses, 'unmanagedInvite'), ['LIMIT_EXCEEDED', 'ok'])
  assert.deepEqual(await usage('seat1'), { users: 2, admins: 0 })
  const [{ n }] = await rows<{ n: number }>(sql`select count(*)::int as n from person where email in ('b@seat1.test', 'c@seat1.test')`)
  assert.equal(n, 1, 'the loser\'s person was rolled back with its membership')
})

test('eight parallel invites for three free seats: exactly three win', async () => {
  await tenantWithLimits('seat3', { CHEVERETO_MAX_USERS: '3' })
  const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => unmanagedInvite(server, ROOT_TOKEN, 'seat3', `p${i}@seat3.test`)))
  assert.deepEqual(codes(responses, 'unmanagedInvite'), ['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'ok', 'ok', 'ok'])
  assert.deepEqual(await usage('seat3'), { users: 3, admins: 0 })
})

test('parallel addProjectMember of existing persons at the last seat: one wins', async () => {
  await tenantWithLimits('seatadd', {})
  // Persons who exist elsewhere (a project without a tenant has no limits).
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation { createProject(projectSlug: "pool", options: { noDeployToken: true }) { ok } }')).body.data.createProject.ok, true)
  const identities: string[] = []
  for (const email of ['x@pool.test', 'y@pool.test', 'z@pool.test']) {
    const response = await unmanagedInvite(server, ROOT_TOKEN, 'pool', email)
    assertOutcome(response, 'unmanagedInvite', true)
    identities.push(response.body.data.unmanagedInvite.result.person.identity.id)
  }
  const add = (identityId: string) => gql(server.url, ROOT_TOKEN, `mutation($id: String!, $m: [MembershipInput!]!) {
    addProjectMember(projectSlug: "seatadd", identityId: $id, memberships: $m) { ok error { code developerMessage } } }`, { id: identityId, m: MEMBER })
  assertOutcome(await add(identities[0]), 'addProjectMember', true)
  const responses = await Promise.all(identities.slice(1).map(add))
  assert.deepEqual(codes(responses, 'addProjectMember'), ['LIMIT_EXCEEDED', 'ok'])
  assert.deepEqual(await usage('seatadd'), { users: 2, admins: 0 })
})

test('admins: TENANT_ENFORCED (2) wins over the plan (9); parallel promotions at the last admin seat: one wins', async () => {
  await tenantWithLimits('admins', { CHEVERETO_MAX_USERS: '0' })
  const limits = (await projectBySlug(server, ROOT_TOKEN, 'admins'))!.tenant!.limits
  assert.deepEqual(limits, { CHEVERETO_MAX_ADMINS: '2', CHEVERETO_MAX_USERS: '0' })
  assertOutcome(await unmanagedInvite(server, ROOT_TOKEN, 'admins', 'boss@admins.test', ADMIN), 'unmanagedInvite', true)
  const identities: string[] = []
  for (let i = 0; i < 4; i++) {
    const response = await unmanagedInvite(server, ROOT_TOKEN, 'admins', `m${i}@admins.test`)
    assertOutcome(response, 'unmanagedInvite', true)
    identities.push(response.body.data.unmanagedInvite.result.person.identity.id)
  }
  assert.deepEqual(await usage('admins'), { users: 5, admins: 1 }, 'CHEVERETO_MAX_USERS "0" is unlimited')
  const promote = (identityId: string) => gql(server.url, ROOT_TOKEN, `mutation($id: String!, $m: [MembershipInput!]!) {
    updateProjectMember(projectSlug: "admins", identityId: $id, memberships: $m) { ok error { code } } }`, { id: identityId, m: ADMIN })
  const responses = await Promise.all(identities.map(promote))
  assert.deepEqual(codes(responses, 'updateProjectMember'), ['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'ok'])
  assert.deepEqual(await usage('admins'), { users: 5, admins: 2 })
  // Project API keys are not people: an admin key is not refused.
  const key = await gql(server.url, ROOT_TOKEN, `mutation($m: [MembershipInput!]!) {
    createApiKey(projectSlug: "admins", memberships: $m, description: "deploy") { ok } }`, { m: ADMIN })
  assertOutcome(key, 'createApiKey', true)
  assert.deepEqual(await usage('admins'), { users: 5, admins: 2 })
})

test('install into a full tenant is 409 LIMIT_EXCEEDED and writes nothing', async () => {
  // A GraphQL project with a member gets a tenant whose limit is already used up.
  assert.equal((await gql(server.url, ROOT_TOKEN, 'mutation { createProject(projectSlug: "full", options: { noDeployToken: true }) { ok } }')).body.data.createProject.ok, true)
  assertOutcome(await unmanagedInvite(server, ROOT_TOKEN, 'full', 'member@full.test'), 'unmanagedInvite', true)
  const created = await rest(server, 'POST', 'tenants', 201, { id: 'full', hostname: 'full.limits.test', is_enabled: true, limits: { CHEVERETO_MAX_USERS: '1' } })
  assert.equal(created.headers.get('x-tenant-project'), 'adopted')
  const refused = await rest(server, 'POST', 'tenants/full/install', 409, { username: 'owner', email: 'owner@full.test', password: 'owner-password' })
  assert.equal(refused.body.code, 'LIMIT_EXCEEDED')
  assert.match(refused.body.message, /CHEVERETO_MAX_USERS/)
  const [{ n }] = await rows<{ n: number }>(sql`select count(*)::int as n from person where email = 'owner@full.test'`)
  assert.equal(n, 0)
  await rest(server, 'PATCH', 'tenants/full', 204, { limits: { CHEVERETO_MAX_USERS: '2' } })
  await rest(server, 'POST', 'tenants/full/install', 201, { username: 'owner', email: 'owner@full.test', password: 'owner-password' })
})

test('a limit lowered below the count blocks new seats only; nobody is removed and members can be re-invited', async () => {
  await rest(server, 'PATCH', 'tenants/seat3', 204, { limits: { CHEVERETO_MAX_USERS: '1' } })
  assert.deepEqual(await usage('seat3'), { users: 3, admins: 0 })
  const [existing] = await rows<{ email: string }>(sql`
    select pe.email from person pe join project_membership m on m.identity_id = pe.identity_id
    join tenant t on t.project_id = m.project_id where t.id = 'seat3' limit 1`)
  assertOutcome(await unmanagedInvite(server, ROOT_TOKEN, 'seat3', existing.email), 'unmanagedInvite', true)
  assertOutcome(await unmanagedInvite(server, ROOT_TOKEN, 'seat3', 'late@seat3.test'), 'unmanagedInvite', 'LIMIT_EXCEEDED')
})
