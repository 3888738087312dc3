/**
 * Personal IdP connections (2.2) over HTTP: Person.identityProviders (self always; others with
 * person:viewIdp, else []) and disconnectMyIdentityProvider with NOT_FOUND, NOT_A_PERSON,
 * LAST_AUTH_METHOD and its audit line. Connections are seeded in the database: the OIDC flow
 * that creates them is covered end to end by idp-oidc.test.ts.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, globalKey, personSession } from '../helpers/accounts.js'
import { apiKey, identity, identityProvider, person, personIdentityProvider } from '../../src/db/schema.js'
import { generateToken, sha256Hex } from '../../src/domain/crypto/tokens.js'

let server: TestServer
let providers: { id: string, slug: string }[]
before(async () => {
  server = await startTestServer()
  providers = await server.runtime.ctx.db.insert(identityProvider).values([
    { slug: 'corp', type: 'oidc', configuration: { url: 'https://idp.example.com' } },
    { slug: 'social', type: 'oidc', configuration: { url: 'https://social.example.com' }, disabledAt: new Date('2024-01-01T00:00:00Z') },
  ]).returning({ id: identityProvider.id, slug: identityProvider.slug })
})
after(async () => { await server.close() })

const DISCONNECT = 'mutation($id: String!) { disconnectMyIdentityProvider(id: $id) { ok error { code developerMessage } } }'
const MY_IDPS = '{ me { person { identityProviders { id externalIdentifier createdAt identityProvider { slug type disabledAt } } } } }'
const PERSON_IDPS = 'query($id: String!) { personById(id: $id) { identityProviders { id identityProvider { slug } } } }'

async function connect(personId: string, providerIndex: number, externalIdentifier: string): Promise<string> {
  const [row] = await server.runtime.ctx.db.insert(personIdentityProvider)
    .values({ personId, identityProviderId: providers[providerIndex].id, externalIdentifier }).returning({ id: personIdentityProvider.id })
  return row.id
}

/** An IdP-only person (no e-mail, as an exclusive provider creates them) with a session. */
async function idpOnlyPerson(roles = ['person']) {
  const db = server.runtime.ctx.db
  const [created] = await db.insert(identity).values({ roles }).returning({ id: identity.id })
  const [row] = await db.insert(person).values({ identityId: created.id, email: null, name: 'idp only', idpOnly: true }).returning({ id: person.id })
  const token = generateToken()
  await db.insert(apiKey).values({ tokenHash: sha256Hex(token), type: 'session', identityId: created.id, expiresAt: new Date(Date.now() + 3_600_000) })
  return { personId: row.id, token }
}

test('me.person.identityProviders lists the caller connections with their provider', async () => {
  const alice = await personSession(server.url)
  assert.deepEqual((await gql(server.url, alice.token, MY_IDPS)).body.data.me.person.identityProviders, [])
  const first = await connect(alice.personId, 0, 'alice-sub')
  const second = await connect(alice.personId, 1, 'alice-social')
  const listed = (await gql(server.url, alice.token, MY_IDPS)).body.data.me.person.identityProviders
  assert.deepEqual(listed.map((c: { id: string }) => c.id).sort(), [first, second].sort())
  const corp = listed.find((c: { id: string }) => c.id === first)
  assert.equal(corp.externalIdentifier, 'alice-sub')
  assert.deepEqual(corp.identityProvider, { slug: 'corp', type: 'oidc', disabledAt: null })
  assert.match(corp.createdAt, /^\d{4}-\d\d-\d\dT/)
  assert.equal(listed.find((c: { id: string }) => c.id === second).identityProvider.disabledAt, '2024-01-01T00:00:00.000Z')
})

test("another person's connections: visible to super_admin and a project_admin (person:viewIdp), [] for a plain person", async () => {
  const bob = await personSession(server.url)
  const link = await connect(bob.personId, 0, 'bob-sub')
  const expected = [{ id: link, identityProvider: { slug: 'corp' } }]
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, PERSON_IDPS, { id: bob.personId })).body.data.personById.identityProviders, expected)
  const projectAdmin = await personSession(server.url, ['project_admin'])
  assert.deepEqual((await gql(server.url, projectAdmin.token, PERSON_IDPS, { id: bob.personId })).body.data.personById.identityProviders, expected)
  // A project_admin may not look into a super_admin's connections (targets outside its reach).
  const root = await personSession(server.url, ['super_admin'])
  await connect(root.personId, 0, 'root-sub')
  assert.deepEqual((await gql(server.url, projectAdmin.token, PERSON_IDPS, { id: root.personId })).body.data.personById.identityProviders, [])
  const carol = await personSession(server.url)
  const seen = await gql(server.url, carol.token, PERSON_IDPS, { id: bob.personId })
  assert.deepEqual(seen.body.data.personById.identityProviders, [], seen.text)
})

test('disconnectMyIdentityProvider removes the connection and audits idp_disconnect {id, slug}', async () => {
  const dave = await personSession(server.url)
  const link = await connect(dave.personId, 0, 'dave-sub')
  assert.deepEqual((await gql(server.url, dave.token, DISCONNECT, { id: link })).body.data.disconnectMyIdentityProvider, { ok: true, error: null })
  assert.deepEqual((await gql(server.url, dave.token, MY_IDPS)).body.data.me.person.identityProviders, [])
  const [audit] = await server.runtime.database.rows<{ event_data: Record<string, unknown>, identity_provider_id: string }>(
    sql`select event_data, identity_provider_id from audit_event where type = 'idp_disconnect' and person_id = ${dave.personId} and success`)
  assert.deepEqual(audit, { event_data: { id: link, slug: 'corp' }, identity_provider_id: providers[0].id })
  // Gone: a second attempt finds nothing.
  assert.equal((await gql(server.url, dave.token, DISCONNECT, { id: link })).body.data.disconnectMyIdentityProvider.error.code, 'NOT_FOUND')
})

test('NOT_FOUND for an unknown id, a malformed id and another person connection (which stays)', async () => {
  const erin = await personSession(server.url)
  const frank = await personSession(server.url)
  const franks = await connect(frank.personId, 0, 'frank-sub')
  for (const id of ['00000000-0000-4000-8000-000000000000', 'nope', franks]) {
    assert.deepEqual((await gql(server.url, erin.token, DISCONNECT, { id })).body.data.disconnectMyIdentityProvider,
      { ok: false, error: { code: 'NOT_FOUND', developerMessage: `You have no identity provider connection with id ${id}` } })
  }
  assert.equal((await gql(server.url, frank.token, MY_IDPS)).body.data.me.person.identityProviders.length, 1)
})

test('LAST_AUTH_METHOD: an IdP-only person keeps their last connection, but may drop one of two', async () => {
  const grace = await idpOnlyPerson()
  const corp = await connect(grace.personId, 0, 'grace-sub')
  const social = await connect(grace.personId, 1, 'grace-social')
  assert.equal((await gql(server.url, grace.token, DISCONNECT, { id: social })).body.data.disconnectMyIdentityProvider.ok, true)
  assert.deepEqual((await gql(server.url, grace.token, DISCONNECT, { id: corp })).body.data.disconnectMyIdentityProvider,
    { ok: false, error: { code: 'LAST_AUTH_METHOD', developerMessage: 'This connection is your only way to sign in and cannot be removed' } })
  assert.equal((await gql(server.url, grace.token, MY_IDPS)).body.data.me.person.identityProviders.length, 1)
})

test('concurrent disconnects of an IdP-only person two connections leave exactly one', async () => {
  const heidi = await idpOnlyPerson()
  const links = [await connect(heidi.personId, 0, 'heidi-sub'), await connect(heidi.personId, 1, 'heidi-social')]
  const results = await Promise.all(links.map((id) => gql(server.url, heidi.token, DISCONNECT, { id })))
  const outcomes = results.map((response) => response.body.data.disconnectMyIdentityProvider.error?.code ?? 'ok').sort()
  assert.deepEqual(outcomes, ['LAST_AUTH_METHOD', 'ok'])
  assert.equal((await gql(server.url, heidi.token, MY_IDPS)).body.data.me.person.identityProviders.length, 1)
})

test('NOT_A_PERSON for the login token and a key without a person; a person without person:disconnectIdp is refused', async () => {
  const expected = { ok: false, error: { code: 'NOT_A_PERSON', developerMessage: 'Only a person has identity provider connections' } }
  assert.deepEqual((await gql(server.url, LOGIN_TOKEN, DISCONNECT, { id: 'x' })).body.data.disconnectMyIdentityProvider, expected)
  const key = await globalKey(server.url, ['super_admin'])
  assert.deepEqual((await gql(server.url, key.token, DISCONNECT, { id: 'x' })).body.data.disconnectMyIdentityProvider, expected)
  const roleless = await idpOnlyPerson([])
  assertForbidden(await gql(server.url, roleless.token, DISCONNECT, { id: 'x' }), 'disconnectMyIdentityProvider', 'You are not allowed to disconnect an identity provider')
})
