/**
 * Sign in with Apple over HTTP against a loopback peer that speaks Apple's contract: discovery,
 * form_post callbacks with the one-time `user` JSON, a token endpoint that verifies our ES256
 * client-secret JWT with the public half of the developer key, and RS256 ID tokens with Apple's
 * string booleans. Covers auto sign-up with the name, matching by e-mail, an unverified e-mail,
 * and the refusals: wrong state or nonce, a JWT signed with another key or for another team, an
 * ID token signed outside the JWKS, a reused code, a malformed `user` — codes, never a 500.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { sql } from 'drizzle-orm'
import {
  APPLE_CLIENT_ID, APPLE_KEY_ID, APPLE_REDIRECT_URL, APPLE_TEAM_ID, startApplePeer, type AppleCallback, type ApplePeer,
} from '../helpers/apple-id.js'
import { gql } from '../helpers/http.js'
import { ADD_IDP as ADD, INIT_SIGN_IN_IDP as INIT, SIGN_IN_IDP as SIGN_IN, callMutation } from '../helpers/idp.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'


let server: TestServer
let peer: ApplePeer

const call = (query: string, variables: Record<string, unknown>, token = LOGIN_TOKEN) => callMutation(server.url, query, variables, token)

async function addProvider(slug: string, options: Record<string, boolean> = {}, extra: Record<string, unknown> = {}) {
  const configuration = { keyId: APPLE_KEY_ID, teamId: APPLE_TEAM_ID, clientId: APPLE_CLIENT_ID, privateKey: peer.privateKeyPem, ...extra }
  const added = await call(ADD, { identityProvider: slug, type: 'apple', configuration, options }, ROOT_TOKEN)
  assert.equal(added.ok, true, JSON.stringify(added))
}

async function signUp(email: string): Promise<string> {
  const response = await gql(server.url, ROOT_TOKEN, 'mutation($email: String!) { signUp(email: $email, password: "password-123") { ok result { person { id } } } }', { email })
  assert.equal(response.body.data.signUp.ok, true, response.text)
  return response.body.data.signUp.result.person.id
}

/** initSignInIDP, then the browser signs in at Apple and Apple posts the form back. */
async function authorize(slug: string, userId: string, responseMode?: string) {
  const init = await call(INIT, { identityProvider: slug, data: { redirectUrl: APPLE_REDIRECT_URL, ...(responseMode ? { responseMode } : {}) } })
  assert.equal(init.ok, true, JSON.stringify(init))
  const callback = await peer.authorize(init.result.authUrl, userId)
  return { callback, sessionData: init.result.sessionData as Record<string, string> }
}

function formPost(callback: AppleCallback): Record<string, string> {
  assert.equal(callback.mode, 'form_post')
  assert.equal(callback.action, APPLE_REDIRECT_URL)
  return callback.fields
}

const signInIdp = (slug: string, data: Record<string, unknown>) => call(SIGN_IN, { identityProvider: slug, data, expiration: 60 })

/** The whole flow; the app's callback hands the posted fields to signInIDP as `parameters`. */
async function fullSignIn(slug: string, userId: string) {
  const { callback, sessionData } = await authorize(slug, userId)
  return signInIdp(slug, { parameters: formPost(callback), redirectUrl: APPLE_REDIRECT_URL, sessionData })
}

function expectRefused(result: { ok: boolean, error: { code: string, developerMessage: string }, result: unknown }, code: string, message: RegExp) {
  assert.equal(result.ok, false, JSON.stringify(result))
  assert.equal(result.result, null)
  assert.equal(result.error.code, code)
  assert.match(result.error.developerMessage, message)
}

before(async () => {
  peer = await startApplePeer()
  server = await startTestServer({ captureLogs: true, env: { LOG_LEVEL: 'trace', IDP_APPLE_ISSUER_OVERRIDE: peer.issuer } })
  await addProvider('apple')
  await addProvider('apple-auto', { autoSignUp: true })
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  await addProvider('apple-wrong-key', {}, { privateKey: otherKey })
  await addProvider('apple-wrong-team', {}, { teamId: 'OTHERTEAM1' })
})
after(async () => { await Promise.all([server?.close(), peer?.close()]) })

describe('initSignInIDP', () => {
  test('authUrl is Apple\'s authorize endpoint with name/email scope, form_post, state and nonce, no PKCE', async () => {
    const init = await call(INIT, { identityProvider: 'apple', data: { redirectUrl: APPLE_REDIRECT_URL } })
    assert.equal(init.ok, true, JSON.stringify(init))
    const url = new URL(init.result.authUrl)
    assert.equal(`${url.origin}${url.pathname}`, `${peer.issuer}/auth/authorize`)
    assert.equal(url.searchParams.get('client_id'), APPLE_CLIENT_ID)
    assert.equal(url.searchParams.get('redirect_uri'), APPLE_REDIRECT_URL)
    assert.equal(url.searchParams.get('response_type'), 'code')
    assert.equal(url.searchParams.get('scope'), 'name email')
    assert.equal(url.searchParams.get('response_mode'), 'form_post')
    assert.equal(url.searchParams.get('state'), init.result.sessionData.state)
    assert.equal(url.searchParams.get('nonce'), init.result.sessionData.nonce)
    assert.equal(url.searchParams.get('code_challenge'), null)
    assert.deepEqual(Object.keys(init.result.sessionData).sort(), ['nonce', 'state'])
  })

  test('an explicit responseMode is kept; bad data is IDP_VALIDATION_FAILED', async () => {
    const init = await call(INIT, { identityProvider: 'apple', data: { redirectUrl: APPLE_REDIRECT_URL, responseMode: 'query' } })
    assert.equal(new URL(init.result.authUrl).searchParams.get('response_mode'), 'query')
    const bad = await call(INIT, { identityProvider: 'apple', data: { redirectUrl: 5 } })
    assert.deepEqual(bad.error, { code: 'IDP_VALIDATION_FAILED', developerMessage: 'value at path /redirectUrl: must be string, 5 given' })
  })
})

describe('signInIDP', () => {
  test('first sign-in with autoSignUp: the name from the posted `user`, Apple\'s booleans as booleans', async () => {
    const secretsBefore = peer.clientSecrets.length
    const anna = await fullSignIn('apple-auto', '001234.anna')
    assert.equal(anna.ok, true, JSON.stringify(anna))
    assert.equal(anna.result.person.email, 'anna@example.com')
    assert.equal(anna.result.person.name, 'Anna Apfel')
    const claims = anna.result.idpResponse
    assert.equal(claims.externalIdentifier, '001234.anna')
    assert.equal(claims.iss, peer.issuer)
    assert.equal(claims.aud, APPLE_CLIENT_ID)
    assert.equal(claims.email_verified, true)
    assert.equal(claims.is_private_email, false)
    assert.deepEqual([claims.given_name, claims.family_name], ['Anna', 'Apfel'])
    assert.equal(claims.nonce, undefined)
    const me = await gql(server.url, anna.result.token, '{ me { person { id } } }')
    assert.equal(me.body.data.me.person.id, anna.result.person.id)

    // The client secret Apple verified: ES256 with our key id, team, client, Apple's audience, 10 minutes.
    const [secret] = peer.clientSecrets.slice(secretsBefore)
    assert.deepEqual(secret.header, { alg: 'ES256', kid: APPLE_KEY_ID })
    assert.equal(secret.claims.iss, APPLE_TEAM_ID)
    assert.equal(secret.claims.sub, APPLE_CLIENT_ID)
    assert.equal(secret.claims.aud, 'https://appleid.apple.com')
    assert.equal(secret.claims.exp! - secret.claims.iat!, 600)
    assert.ok(Math.abs(secret.claims.iat! - Date.now() / 1000) < 60)
    const request = peer.tokenRequests.at(-1)!
    assert.equal(request.client_id, APPLE_CLIENT_ID)
    assert.equal(request.code_verifier, undefined)

    // Apple posts the name only once: the second sign-in has no `user` and finds the same person.
    const { callback, sessionData } = await authorize('apple-auto', '001234.anna')
    assert.equal(formPost(callback).user, undefined)
    const again = await signInIdp('apple-auto', { parameters: formPost(callback), redirectUrl: APPLE_REDIRECT_URL, sessionData })
    assert.equal(again.result.person.id, anna.result.person.id)
    assert.equal(again.result.person.name, 'Anna Apfel')
  })

  test('an existing person is matched by the verified e-mail; `user` may also come as data.user', async () => {
    const bertId = await signUp('bert@example.com')
    const { callback, sessionData } = await authorize('apple', '001234.bert')
    const { user, ...parameters } = formPost(callback)
    const bert = await signInIdp('apple', { parameters, user: JSON.parse(user), redirectUrl: APPLE_REDIRECT_URL, sessionData })
    assert.equal(bert.ok, true, JSON.stringify(bert))
    assert.equal(bert.result.person.id, bertId)
    assert.equal(bert.result.idpResponse.name, 'Bert Birne')
    const links = await server.runtime.database.rows<{ external_identifier: string }>(
      sql`select external_identifier from person_identity_provider where person_id = ${bertId}`)
    assert.deepEqual(links.map((link) => link.external_identifier), ['001234.bert'])
  })

  test('an e-mail Apple marks "false" is never used to link (without autoSignUp: PERSON_NOT_FOUND)', async () => {
    const cleoId = await signUp('cleo@example.com')
    expectRefused(await fullSignIn('apple', '001234.cleo'), 'PERSON_NOT_FOUND', /cleo@example\.com not found/)
    const cleo = await fullSignIn('apple-auto', '001234.cleo')
    assert.equal(cleo.ok, true, JSON.stringify(cleo))
    assert.notEqual(cleo.result.person.id, cleoId)
    assert.equal(cleo.result.person.email, null)
    assert.equal(cleo.result.idpResponse.email_verified, false)
  })

  test('a wrong state or nonce is IDP_VALIDATION_FAILED', async () => {
    const { callback, sessionData } = await authorize('apple', '001234.bert')
    const parameters = formPost(callback)
    expectRefused(await signInIdp('apple', { parameters, redirectUrl: APPLE_REDIRECT_URL, sessionData: { ...sessionData, state: 'forged' } }), 'IDP_VALIDATION_FAILED', /^state mismatch/)
    expectRefused(await signInIdp('apple', { parameters, redirectUrl: APPLE_REDIRECT_URL, sessionData: { ...sessionData, nonce: 'forged' } }), 'IDP_VALIDATION_FAILED', /^nonce mismatch/)
  })

  test('a client secret signed with another key or for another team: Apple answers invalid_client', async () => {
    for (const slug of ['apple-wrong-key', 'apple-wrong-team']) {
      const { callback, sessionData } = await authorize(slug, '001234.bert')
      expectRefused(await signInIdp(slug, { parameters: formPost(callback), redirectUrl: APPLE_REDIRECT_URL, sessionData }), 'INVALID_IDP_RESPONSE', /^invalid_client$/)
    }
  })

  test('an ID token signed with a key outside Apple\'s JWKS is refused', async () => {
    const { callback, sessionData } = await authorize('apple', '001234.bert')
    peer.signNextIdTokenWithForeignKey()
    expectRefused(await signInIdp('apple', { parameters: formPost(callback), redirectUrl: APPLE_REDIRECT_URL, sessionData }), 'IDP_VALIDATION_FAILED', /signature verification failed/)
  })

  test('a code is usable once; an Apple error in the callback is INVALID_IDP_RESPONSE', async () => {
    const { callback, sessionData } = await authorize('apple', '001234.bert')
    const data = { parameters: formPost(callback), redirectUrl: APPLE_REDIRECT_URL, sessionData }
    assert.equal((await signInIdp('apple', data)).ok, true)
    expectRefused(await signInIdp('apple', data), 'INVALID_IDP_RESPONSE', /^invalid_grant/)
    expectRefused(await signInIdp('apple', { parameters: { error: 'user_cancelled_authorize', state: sessionData.state }, redirectUrl: APPLE_REDIRECT_URL, sessionData }), 'INVALID_IDP_RESPONSE', /^user_cancelled_authorize$/)
  })

  test('a malformed `user` field is IDP_VALIDATION_FAILED naming it', async () => {
    const { callback, sessionData } = await authorize('apple', '001234.bert')
    const parameters = { ...formPost(callback), user: '{not json' }
    expectRefused(await signInIdp('apple', { parameters, redirectUrl: APPLE_REDIRECT_URL, sessionData }), 'IDP_VALIDATION_FAILED', /^value at path \/parameters\/user/)
    expectRefused(await signInIdp('apple', { parameters: formPost(callback), user: [1], redirectUrl: APPLE_REDIRECT_URL, sessionData }), 'IDP_VALIDATION_FAILED', /^value at path \/user: must be object$/)
  })

  test('the private key and the client secrets appear in neither the log nor the audit log', async () => {
    const keyBody = peer.privateKeyPem.split('\n')[1]
    const log = server.logs.join('')
    assert.ok(log.length > 0)
    const audit = await server.runtime.database.rows<{ text: string }>(
      sql`select coalesce(error_message, '') || coalesce(event_data::text, '') as text from audit_event where type = 'idp_login'`)
    const jwts = peer.tokenRequests.map((request) => request.client_secret)
    assert.ok(jwts.length >= 4)
    for (const secret of [keyBody, ...jwts]) {
      assert.ok(!log.includes(secret))
      assert.ok(audit.every((row) => !row.text.includes(secret)))
    }
  })
})
