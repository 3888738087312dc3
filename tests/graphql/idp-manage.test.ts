/**
 * IdP management over HTTP: addIDP, updateIDP, disableIDP, enableIDP and identityProviders,
 * every error code, the permission denials, secrets never returned, encrypted at rest and kept
 * out of the audit log.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'

const ADD = `mutation($identityProvider: String!, $type: String!, $configuration: Json!, $options: IDPOptions) {
  mutation: addIDP(identityProvider: $identityProvider, type: $type, configuration: $configuration, options: $options) { ok error { code developerMessage } }
}`
const UPDATE = `mutation($identityProvider: String!, $type: String, $configuration: Json, $options: IDPOptions, $mergeConfiguration: Boolean) {
  mutation: updateIDP(identityProvider: $identityProvider, type: $type, configuration: $configuration, options: $options, mergeConfiguration: $mergeConfiguration) { ok error { code developerMessage } }
}`
const DISABLE = 'mutation($identityProvider: String!) { mutation: disableIDP(identityProvider: $identityProvider) { ok error { code developerMessage } } }'
const ENABLE = 'mutation($identityProvider: String!) { mutation: enableIDP(identityProvider: $identityProvider) { ok error { code developerMessage } } }'
const LIST = '{ identityProviders { slug type configuration disabledAt options { autoSignUp exclusive initReturnsConfig } } }'

const SECRET = 'very-secret-client-secret-ABC123'
const oidcConfig = (extra: Record<string, unknown> = {}) => ({ url: 'https://idp.example.com', clientId: 'client-1', clientSecret: SECRET, ...extra })
const appleKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

let server: TestServer

async function mutate(query: string, variables: Record<string, unknown>, token = ROOT_TOKEN) {
  const response = await gql(server.url, token, query, variables)
  assert.equal(response.status, 200, response.text)
  return response.body
}

async function listed(slug: string) {
  const response = await gql(server.url, ROOT_TOKEN, LIST)
  assert.equal(response.status, 200, response.text)
  return response.body.data.identityProviders.find((idp: { slug: string }) => idp.slug === slug)
}

before(async () => { server = await startTestServer() })
after(async () => { await server.close() })

describe('addIDP', () => {
  test('adds an oidc provider; the list shows it without the secret; the secret is encrypted at rest', async () => {
    const body = await mutate(ADD, { identityProvider: 'corp', type: 'oidc', configuration: oidcConfig({ timeout: 3000 }), options: { autoSignUp: true } })
    assert.deepEqual(body.data.mutation, { ok: true, error: null })
    const idp = await listed('corp')
    assert.deepEqual(idp, {
      slug: 'corp', type: 'oidc', configuration: { url: 'https://idp.example.com', clientId: 'client-1', timeout: 3000 }, disabledAt: null,
      options: { autoSignUp: true, exclusive: false, initReturnsConfig: false },
    })
    const [row] = await server.runtime.database.rows<{ configuration: unknown, secret_encrypted: string }>(
      sql`select configuration, secret_encrypted from identity_provider where slug = 'corp'`)
    assert.ok(!JSON.stringify(row.configuration).includes(SECRET))
    assert.match(row.secret_encrypted, /^v1:/)
    assert.ok(!row.secret_encrypted.includes(SECRET))
    assert.ok(!Buffer.from(row.secret_encrypted.slice(3), 'base64').toString('latin1').includes(SECRET))
  })

  test('writes idp_create with configuration keys only', async () => {
    await mutate(ADD, { identityProvider: 'audited', type: 'oidc', configuration: oidcConfig(), options: { exclusive: true } })
    const events = await server.runtime.database.rows<{ event_data: Record<string, unknown> }>(
      sql`select event_data from audit_event where type = 'idp_create' and event_data->>'identityProvider' = 'audited'`)
    assert.equal(events.length, 1)
    assert.deepEqual(events[0].event_data, {
      identityProvider: 'audited', type: 'oidc', configurationKeys: ['clientId', 'clientSecret', 'url'],
      options: { autoSignUp: false, exclusive: true, initReturnsConfig: false },
    })
    const all = await server.runtime.database.rows<{ text: string }>(sql`select coalesce(event_data::text, '') as text from audit_event`)
    assert.ok(all.every((event) => !event.text.includes(SECRET)))
  })

  test('ALREADY_EXISTS for a taken slug', async () => {
    await mutate(ADD, { identityProvider: 'dup', type: 'oidc', configuration: oidcConfig() })
    const body = await mutate(ADD, { identityProvider: 'dup', type: 'oidc', configuration: oidcConfig() })
    assert.deepEqual(body.data.mutation, { ok: false, error: { code: 'ALREADY_EXISTS', developerMessage: 'IDP with slug dup already exists' } })
  })

  test('UNKNOWN_TYPE', async () => {
    const body = await mutate(ADD, { identityProvider: 'saml', type: 'saml', configuration: {} })
    assert.deepEqual(body.data.mutation, { ok: false, error: { code: 'UNKNOWN_TYPE', developerMessage: 'IDP type saml not found' } })
    assert.equal(await listed('saml'), undefined)
  })

  test('INVALID_CONFIGURATION names the path, in Contember wording', async () => {
    const body = await mutate(ADD, { identityProvider: 'bad', type: 'oidc', configuration: oidcConfig({ url: 1 }) })
    assert.deepEqual(body.data.mutation.error, { code: 'INVALID_CONFIGURATION', developerMessage: 'Invalid IDP configuration: value at path /url: must be string, 1 given' })
    const noSecret = await mutate(ADD, { identityProvider: 'bad', type: 'oidc', configuration: { url: 'https://a.example', clientId: 'c' } })
    assert.deepEqual(noSecret.data.mutation.error, { code: 'INVALID_CONFIGURATION', developerMessage: 'Invalid IDP configuration: value at path /clientSecret: must be string, undefined given' })
    const numericSecret = await mutate(ADD, { identityProvider: 'bad', type: 'oidc', configuration: oidcConfig({ clientSecret: 987654321 }) })
    assert.equal(numericSecret.data.mutation.error.code, 'INVALID_CONFIGURATION')
    assert.ok(!numericSecret.data.mutation.error.developerMessage.includes('987654321'), 'the secret is not echoed')
    const alg = await mutate(ADD, { identityProvider: 'bad', type: 'oidc', configuration: oidcConfig({ idTokenSignedResponseAlg: 'none' }) })
    assert.match(alg.data.mutation.error.developerMessage, /value at path \/idTokenSignedResponseAlg/)
    const notAnObject = await mutate(ADD, { identityProvider: 'bad', type: 'oidc', configuration: 'x' })
    assert.equal(notAnObject.data.mutation.error.code, 'INVALID_CONFIGURATION')
    assert.equal(await listed('bad'), undefined)
  })

  test('facebook: clientId and clientSecret are required', async () => {
    const missing = await mutate(ADD, { identityProvider: 'fb', type: 'facebook', configuration: { clientId: 'app' } })
    assert.deepEqual(missing.data.mutation.error, { code: 'INVALID_CONFIGURATION', developerMessage: 'Invalid IDP configuration: value at path /clientSecret: must be string, undefined given' })
    const added = await mutate(ADD, { identityProvider: 'fb', type: 'facebook', configuration: { clientId: 'app', clientSecret: SECRET } })
    assert.equal(added.data.mutation.ok, true)
    assert.deepEqual((await listed('fb')).configuration, { clientId: 'app' })
  })

  test('apple: keyId, teamId, clientId and an ES256 privateKey are required; the key is never listed', async () => {
    const base = { keyId: 'KEY123', teamId: 'TEAM123', clientId: 'com.example.web', privateKey: appleKey }
    const noTeam = await mutate(ADD, { identityProvider: 'apple', type: 'apple', configuration: { ...base, teamId: undefined } })
    assert.deepEqual(noTeam.data.mutation.error, { code: 'INVALID_CONFIGURATION', developerMessage: 'Invalid IDP configuration: value at path /teamId: must be string, undefined given' })
    const badKey = await mutate(ADD, { identityProvider: 'apple', type: 'apple', configuration: { ...base, privateKey: 'not a key' } })
    assert.equal(badKey.data.mutation.error.code, 'INVALID_CONFIGURATION')
    assert.match(badKey.data.mutation.error.developerMessage, /\/privateKey: must be a P-256 \(ES256\) private key/)
    const added = await mutate(ADD, { identityProvider: 'apple', type: 'apple', configuration: base })
    assert.equal(added.data.mutation.ok, true)
    assert.deepEqual((await listed('apple')).configuration, { keyId: 'KEY123', teamId: 'TEAM123', clientId: 'com.example.web' })
    const [row] = await server.runtime.database.rows<{ secret_encrypted: string }>(sql`select secret_encrypted from identity_provider where slug = 'apple'`)
    assert.ok(!row.secret_encrypted.includes('PRIVATE KEY'))
  })
})

describe('updateIDP', () => {
  test('NOT_FOUND', async () => {
    const body = await mutate(UPDATE, { identityProvider: 'nope', options: { autoSignUp: true } })
    assert.deepEqual(body.data.mutation, { ok: false, error: { code: 'NOT_FOUND', developerMessage: 'IDP nope not found' } })
  })

  test('merge lays keys over the stored configuration and null removes one; options change alone', async () => {
    await mutate(ADD, { identityProvider: 'upd', type: 'oidc', configuration: oidcConfig({ timeout: 2000 }) })
    const merged = await mutate(UPDATE, { identityProvider: 'upd', configuration: { timeout: null, scope: 'openid email profile' }, mergeConfiguration: true })
    assert.deepEqual(merged.data.mutation, { ok: true, error: null })
    assert.deepEqual((await listed('upd')).configuration, { url: 'https://idp.example.com', clientId: 'client-1', scope: 'openid email profile' })
    const options = await mutate(UPDATE, { identityProvider: 'upd', options: { exclusive: true, initReturnsConfig: true } })
    assert.equal(options.data.mutation.ok, true)
    assert.deepEqual((await listed('upd')).options, { autoSignUp: false, exclusive: true, initReturnsConfig: true })
    const events = await server.runtime.database.rows<{ event_data: { before: Record<string, unknown>, after: Record<string, unknown> } }>(
      sql`select event_data from audit_event where type = 'idp_update' order by created_at, seq`)
    const last = events.at(-1)!.event_data
    assert.equal(last.before.exclusive, false)
    assert.equal(last.after.exclusive, true)
    assert.deepEqual(last.after.configurationKeys, ['clientId', 'clientSecret', 'scope', 'url'])
    assert.ok(!JSON.stringify(events).includes(SECRET))
  })

  test('INVALID_CONFIGURATION: a replaced configuration must be complete; a removed secret; an unknown type', async () => {
    await mutate(ADD, { identityProvider: 'upd2', type: 'oidc', configuration: oidcConfig() })
    const replaced = await mutate(UPDATE, { identityProvider: 'upd2', configuration: { url: 'https://other.example.com', clientId: 'x' } })
    assert.deepEqual(replaced.data.mutation.error, { code: 'INVALID_CONFIGURATION', developerMessage: 'Invalid IDP configuration: value at path /clientSecret: must be string, undefined given' })
    const removed = await mutate(UPDATE, { identityProvider: 'upd2', configuration: { clientSecret: null }, mergeConfiguration: true })
    assert.equal(removed.data.mutation.error.code, 'INVALID_CONFIGURATION')
    const badValue = await mutate(UPDATE, { identityProvider: 'upd2', configuration: { fetchUserInfo: 'yes' }, mergeConfiguration: true })
    assert.deepEqual(badValue.data.mutation.error, { code: 'INVALID_CONFIGURATION', developerMessage: 'Invalid IDP configuration: value at path /fetchUserInfo: must be boolean, "yes" given' })
    const unknownType = await mutate(UPDATE, { identityProvider: 'upd2', type: 'saml' })
    assert.deepEqual(unknownType.data.mutation.error, { code: 'INVALID_CONFIGURATION', developerMessage: 'IDP type saml not found' })
    const toApple = await mutate(UPDATE, { identityProvider: 'upd2', type: 'apple' })
    assert.match(toApple.data.mutation.error.developerMessage, /value at path \/keyId/)
    assert.deepEqual((await listed('upd2')).configuration, { url: 'https://idp.example.com', clientId: 'client-1' }, 'nothing was written')
  })

  test('replacing the configuration (with a new secret) and changing the type', async () => {
    await mutate(ADD, { identityProvider: 'upd3', type: 'oidc', configuration: oidcConfig() })
    const replaced = await mutate(UPDATE, { identityProvider: 'upd3', type: 'facebook', configuration: { clientId: 'fb-app', clientSecret: 'new-secret' } })
    assert.deepEqual(replaced.data.mutation, { ok: true, error: null })
    const idp = await listed('upd3')
    assert.equal(idp.type, 'facebook')
    assert.deepEqual(idp.configuration, { clientId: 'fb-app' })
  })
})

describe('disableIDP / enableIDP', () => {
  test('NOT_FOUND for both', async () => {
    for (const query of [DISABLE, ENABLE]) {
      const body = await mutate(query, { identityProvider: 'ghost' })
      assert.deepEqual(body.data.mutation, { ok: false, error: { code: 'NOT_FOUND', developerMessage: 'IDP ghost not found' } })
    }
  })

  test('idempotent; disabledAt is shown and kept on a second disable; enable clears it', async () => {
    await mutate(ADD, { identityProvider: 'toggle', type: 'oidc', configuration: oidcConfig() })
    assert.deepEqual((await mutate(DISABLE, { identityProvider: 'toggle' })).data.mutation, { ok: true, error: null })
    const first = (await listed('toggle')).disabledAt
    assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.equal((await mutate(DISABLE, { identityProvider: 'toggle' })).data.mutation.ok, true)
    assert.equal((await listed('toggle')).disabledAt, first)
    assert.deepEqual((await mutate(ENABLE, { identityProvider: 'toggle' })).data.mutation, { ok: true, error: null })
    assert.equal((await mutate(ENABLE, { identityProvider: 'toggle' })).data.mutation.ok, true)
    assert.equal((await listed('toggle')).disabledAt, null)
    const events = await server.runtime.database.rows<{ type: string }>(
      sql`select type from audit_event where type in ('idp_disable', 'idp_enable') and event_data->>'identityProvider' = 'toggle' order by created_at, seq`)
    assert.deepEqual(events.map((event) => event.type), ['idp_disable', 'idp_disable', 'idp_enable', 'idp_enable'])
  })
})

describe('permissions', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [ADD, 'You are not allowed to add IDP', { identityProvider: 'x', type: 'oidc', configuration: oidcConfig() }],
    [UPDATE, 'You are not allowed to update IDP', { identityProvider: 'corp', options: { autoSignUp: false } }],
    [DISABLE, 'You are not allowed to disable IDP', { identityProvider: 'corp' }],
    [ENABLE, 'You are not allowed to enable IDP', { identityProvider: 'corp' }],
  ]
  for (const [query, message, variables] of cases) {
    test(`the login token: ${message}`, async () => {
      const response = await gql(server.url, LOGIN_TOKEN, query, variables)
      assert.equal(response.status, 200)
      assert.equal(response.body.data.mutation, null)
      assert.equal(response.body.errors[0].message, message)
      assert.deepEqual(response.body.errors[0].extensions, { code: 'ForbiddenError' })
    })
  }

  test('identityProviders without idp:list is a 400 with data null', async () => {
    const response = await gql(server.url, LOGIN_TOKEN, LIST)
    assert.equal(response.status, 400)
    assert.equal(response.body.data, null)
    assert.equal(response.body.errors[0].message, 'You are not allowed to list IDP')
    assert.deepEqual(response.body.errors[0].extensions, { code: 'ForbiddenError' })
  })

  test('a global project_admin may manage providers (Contember grants idp:* to it)', async () => {
    const key = await gql(server.url, ROOT_TOKEN, 'mutation { createGlobalApiKey(description: "idp admin", roles: ["project_admin"]) { ok result { apiKey { token } } } }')
    const token = key.body.data.createGlobalApiKey.result.apiKey.token
    const added = await mutate(ADD, { identityProvider: 'by-admin', type: 'oidc', configuration: oidcConfig() }, token)
    assert.deepEqual(added.data.mutation, { ok: true, error: null })
    const list = await gql(server.url, token, LIST)
    assert.ok(list.body.data.identityProviders.some((idp: { slug: string }) => idp.slug === 'by-admin'))
  })
})
