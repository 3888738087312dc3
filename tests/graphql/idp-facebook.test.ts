/**
 * Facebook sign-in over HTTP against a loopback peer that speaks Facebook's contract (dialog,
 * token exchange, Graph /me with appsecret_proof): the authorization-code flow and the JS SDK's
 * signed request, person matching by e-mail and auto sign-up, and every refusal — wrong state,
 * a reused code, a wrong app secret, an OAuth error, a tampered or foreign signed request, a
 * token of another app — as an error code, never an internal error.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { ConfigError, loadConfig } from '../../src/config.js'
import {
  FACEBOOK_APP_ID, FACEBOOK_APP_SECRET, FACEBOOK_REDIRECT_URL, signRequest, startFacebookPeer, type FacebookPeer,
} from '../helpers/facebook-graph.js'
import { gql } from '../helpers/http.js'
import { ADD_IDP as ADD, INIT_SIGN_IN_IDP as INIT, SIGN_IN_IDP as SIGN_IN, callMutation } from '../helpers/idp.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, testEnv, type TestServer } from '../helpers/server.js'


let server: TestServer
let peer: FacebookPeer
const issuedAccessTokens: string[] = []

const call = (query: string, variables: Record<string, unknown>, token = LOGIN_TOKEN) => callMutation(server.url, query, variables, token)

async function addProvider(slug: string, options: Record<string, boolean> = {}, extra: Record<string, unknown> = {}) {
  const configuration = { clientId: FACEBOOK_APP_ID, clientSecret: FACEBOOK_APP_SECRET, ...extra }
  assert.equal((await call(ADD, { identityProvider: slug, type: 'facebook', configuration, options }, ROOT_TOKEN)).ok, true)
}

async function signUp(email: string): Promise<string> {
  const response = await gql(server.url, ROOT_TOKEN, 'mutation($email: String!) { signUp(email: $email, password: "password-123") { ok result { person { id } } } }', { email })
  assert.equal(response.body.data.signUp.ok, true, response.text)
  return response.body.data.signUp.result.person.id
}

/** initSignInIDP, then the browser passes Facebook's dialog as userId. */
async function authorize(slug: string, userId: string) {
  const init = await call(INIT, { identityProvider: slug, data: { redirectUrl: FACEBOOK_REDIRECT_URL } })
  assert.equal(init.ok, true, JSON.stringify(init))
  return { url: await peer.authorize(init.result.authUrl, userId), sessionData: init.result.sessionData as Record<string, string> }
}

const signInIdp = (slug: string, data: Record<string, unknown>) => call(SIGN_IN, { identityProvider: slug, data, expiration: 60 })

async function codeFlow(slug: string, userId: string) {
  const { url, sessionData } = await authorize(slug, userId)
  return signInIdp(slug, { url, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData })
}

function sdkLogin(...args: Parameters<FacebookPeer['sdkLogin']>) {
  const authResponse = peer.sdkLogin(...args)
  issuedAccessTokens.push(authResponse.accessToken)
  return authResponse
}

function expectRefused(result: { ok: boolean, error: { code: string, developerMessage: string }, result: unknown }, code: string, message: RegExp) {
  assert.equal(result.ok, false, JSON.stringify(result))
  assert.equal(result.result, null)
  assert.equal(result.error.code, code)
  assert.match(result.error.developerMessage, message)
}

const personCount = async (email: string) => (await server.runtime.database.rows(sql`select id from person where email = ${email}`)).length

before(async () => {
  peer = await startFacebookPeer()
  server = await startTestServer({
    captureLogs: true,
    env: { LOG_LEVEL: 'trace', IDP_FACEBOOK_DIALOG_URL_OVERRIDE: peer.url, IDP_FACEBOOK_GRAPH_URL_OVERRIDE: `${peer.url}/` },
  })
  await addProvider('fb')
  await addProvider('fb-auto', { autoSignUp: true })
  await addProvider('fb-wrong-secret', {}, { clientSecret: 'not-the-app-secret' })
})
after(async () => { await Promise.all([server?.close(), peer?.close()]) })

describe('configuration', () => {
  test('the endpoints are Facebook\'s and Apple\'s unless overridden with an http(s) URL', () => {
    assert.deepEqual(loadConfig(testEnv()).idp, {
      facebookDialogUrl: 'https://www.facebook.com', facebookGraphUrl: 'https://graph.facebook.com', appleIssuer: 'https://appleid.apple.com',
    })
    assert.equal(server.config.idp.facebookGraphUrl, peer.url, 'a trailing slash is dropped')
    for (const name of ['IDP_FACEBOOK_DIALOG_URL_OVERRIDE', 'IDP_FACEBOOK_GRAPH_URL_OVERRIDE', 'IDP_APPLE_ISSUER_OVERRIDE']) {
      assert.throws(() => loadConfig(testEnv({ [name]: 'ftp://example.com' })), (error) => error instanceof ConfigError && error.variable === name)
    }
  })
})

describe('initSignInIDP', () => {
  test('authUrl is the dialog with state, nonce and an S256 PKCE challenge, never the secret', async () => {
    const init = await call(INIT, { identityProvider: 'fb', data: { redirectUrl: FACEBOOK_REDIRECT_URL } })
    assert.equal(init.ok, true, JSON.stringify(init))
    const url = new URL(init.result.authUrl)
    assert.equal(url.origin, peer.url)
    assert.match(url.pathname, /^\/v\d+\.\d+\/dialog\/oauth$/)
    assert.equal(url.searchParams.get('client_id'), FACEBOOK_APP_ID)
    assert.equal(url.searchParams.get('redirect_uri'), FACEBOOK_REDIRECT_URL)
    assert.equal(url.searchParams.get('response_type'), 'code')
    assert.equal(url.searchParams.get('scope'), 'email')
    assert.equal(url.searchParams.get('state'), init.result.sessionData.state)
    assert.equal(url.searchParams.get('nonce'), init.result.sessionData.nonce)
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
    assert.match(init.result.sessionData.codeVerifier, /^[A-Za-z0-9_-]{43}$/)
    assert.ok(!init.result.authUrl.includes(FACEBOOK_APP_SECRET))
  })

  test('bad data is IDP_VALIDATION_FAILED', async () => {
    const init = await call(INIT, { identityProvider: 'fb', data: { redirect: FACEBOOK_REDIRECT_URL } })
    assert.deepEqual(init.error, { code: 'IDP_VALIDATION_FAILED', developerMessage: 'value at path /redirectUrl: must be string, undefined given' })
  })
})

describe('signInIDP: authorization-code flow', () => {
  test('an existing person is found by the Graph e-mail and linked; the session works', async () => {
    const fionaId = await signUp('fiona@example.com')
    const before = peer.requests.length
    const signedIn = await codeFlow('fb', '10001')
    assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
    assert.deepEqual(signedIn.result.person, { id: fionaId, email: 'fiona@example.com', name: 'fiona' })
    assert.deepEqual(signedIn.result.idpResponse, { externalIdentifier: '10001', sub: '10001', id: '10001', name: 'Fiona Facebook', email: 'fiona@example.com' })
    const me = await gql(server.url, signedIn.result.token, '{ me { person { id } } }')
    assert.equal(me.body.data.me.person.id, fionaId)
    const links = await server.runtime.database.rows<{ external_identifier: string }>(
      sql`select external_identifier from person_identity_provider where person_id = ${fionaId}`)
    assert.deepEqual(links.map((link) => link.external_identifier), ['10001'])

    // What reached Facebook: the code exchanged with the secret and the PKCE verifier, /me with its proof.
    const [exchange, profile] = peer.requests.slice(before).filter((r) => r.path.endsWith('/oauth/access_token') || r.path === '/me')
    assert.equal(exchange.method, 'POST')
    assert.equal(exchange.params.client_secret, FACEBOOK_APP_SECRET)
    assert.equal(exchange.params.redirect_uri, FACEBOOK_REDIRECT_URL)
    assert.match(exchange.params.code_verifier, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(profile.params.fields, 'id,name,email')
    assert.equal(profile.params.appsecret_proof, createHmac('sha256', FACEBOOK_APP_SECRET).update(profile.params.access_token).digest('hex'))
    issuedAccessTokens.push(profile.params.access_token)
  })

  test('autoSignUp creates the person with the Graph name once; later sign-ins use the link', async () => {
    const gustav = await codeFlow('fb-auto', '10002')
    assert.equal(gustav.ok, true, JSON.stringify(gustav))
    assert.equal(gustav.result.person.email, 'gustav@example.com')
    assert.equal(gustav.result.person.name, 'Gustav Graph')
    const again = await codeFlow('fb-auto', '10002')
    assert.equal(again.result.person.id, gustav.result.person.id)
    assert.equal(await personCount('gustav@example.com'), 1)
  })

  test('a Facebook user without an e-mail: PERSON_NOT_FOUND, or a person without e-mail with autoSignUp', async () => {
    expectRefused(await codeFlow('fb', '10003'), 'PERSON_NOT_FOUND', /^Person 10003 not found$/)
    const hana = await codeFlow('fb-auto', '10003')
    assert.equal(hana.ok, true, JSON.stringify(hana))
    assert.deepEqual({ email: hana.result.person.email, name: hana.result.person.name }, { email: null, name: 'Hana Without Email' })
  })

  test('a state that does not match the session is refused before the code is spent', async () => {
    const { url, sessionData } = await authorize('fb', '10001')
    expectRefused(await signInIdp('fb', { url, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData: { ...sessionData, state: 'forged' } }), 'IDP_VALIDATION_FAILED', /^state mismatch/)
    expectRefused(await signInIdp('fb', { url, redirectUrl: FACEBOOK_REDIRECT_URL }), 'IDP_VALIDATION_FAILED', /state is present in parameters, but missing in session data/)
    const code = new URL(url).searchParams.get('code')
    expectRefused(await signInIdp('fb', { parameters: { code }, redirectUrl: FACEBOOK_REDIRECT_URL }), 'IDP_VALIDATION_FAILED', /sessionData\/state/)
    assert.equal((await signInIdp('fb', { url, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData })).ok, true)
  })

  test('a code is usable once; without the PKCE verifier Facebook refuses it', async () => {
    const first = await authorize('fb', '10001')
    assert.equal((await signInIdp('fb', { url: first.url, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData: first.sessionData })).ok, true)
    expectRefused(await signInIdp('fb', { url: first.url, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData: first.sessionData }), 'INVALID_IDP_RESPONSE', /has been used/)
    const second = await authorize('fb', '10001')
    const { codeVerifier: _verifier, ...withoutVerifier } = second.sessionData
    expectRefused(await signInIdp('fb', { url: second.url, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData: withoutVerifier }), 'INVALID_IDP_RESPONSE', /code verifier/)
  })

  test('a wrong app secret is INVALID_IDP_RESPONSE with Facebook\'s message', async () => {
    const { url, sessionData } = await authorize('fb-wrong-secret', '10001')
    expectRefused(await signInIdp('fb-wrong-secret', { url, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData }), 'INVALID_IDP_RESPONSE', /^Facebook token endpoint refused the code: OAuthException: Error validating client secret\.$/)
  })

  test('a redirect_uri other than the dialog\'s, a missing one, and a denied dialog are refused', async () => {
    const { url, sessionData } = await authorize('fb', '10001')
    expectRefused(await signInIdp('fb', { url, redirectUrl: `${FACEBOOK_REDIRECT_URL}/other`, sessionData }), 'INVALID_IDP_RESPONSE', /redirect_uri is identical/)
    expectRefused(await signInIdp('fb', { url, sessionData }), 'IDP_VALIDATION_FAILED', /value at path \/redirectUrl/)
    const denied = `${FACEBOOK_REDIRECT_URL}?error=access_denied&error_reason=user_denied&error_description=Permissions+error&state=${sessionData.state}`
    expectRefused(await signInIdp('fb', { url: denied, redirectUrl: FACEBOOK_REDIRECT_URL, sessionData }), 'INVALID_IDP_RESPONSE', /^access_denied \(Permissions error\)$/)
  })
})

describe('signInIDP: JS SDK authResponse', () => {
  test('a genuine signed request and access token sign in (auto sign-up), bound by appsecret_proof', async () => {
    const ivo = await signInIdp('fb-auto', { authResponse: sdkLogin('10004') })
    assert.equal(ivo.ok, true, JSON.stringify(ivo))
    assert.deepEqual(ivo.result.person, { id: ivo.result.person.id, email: 'ivo@example.com', name: 'Ivo Graph' })
    assert.equal(ivo.result.idpResponse.externalIdentifier, '10004')
    const me = peer.requests.filter((r) => r.path === '/me').at(-1)!
    assert.equal(me.params.appsecret_proof, createHmac('sha256', FACEBOOK_APP_SECRET).update(me.params.access_token).digest('hex'))
    // An existing person is matched by e-mail the same way.
    const fiona = await signInIdp('fb', { authResponse: sdkLogin('10001') })
    assert.equal(fiona.result.person.email, 'fiona@example.com')
  })

  test('a tampered, forged or malformed signed request is IDP_VALIDATION_FAILED and signs nobody in', async () => {
    const forged = sdkLogin('10002', { signWith: 'guessed-secret' })
    expectRefused(await signInIdp('fb-auto', { authResponse: forged }), 'IDP_VALIDATION_FAILED', /^signedRequest signature mismatch$/)
    // Swap the payload for another user's, keep the genuine signature.
    const genuine = sdkLogin('10002')
    const [signature] = genuine.signedRequest.split('.')
    const otherPayload = signRequest({ algorithm: 'HMAC-SHA256', issued_at: Math.floor(Date.now() / 1000), user_id: '10001' }, FACEBOOK_APP_SECRET).split('.')[1]
    expectRefused(await signInIdp('fb-auto', { authResponse: { ...genuine, signedRequest: `${signature}.${otherPayload}` } }), 'IDP_VALIDATION_FAILED', /signature mismatch/)
    // One flipped bit in the signature.
    const bytes = Buffer.from(signature, 'base64url')
    bytes[0] ^= 1
    expectRefused(await signInIdp('fb-auto', { authResponse: { ...genuine, signedRequest: `${bytes.toString('base64url')}.${genuine.signedRequest.split('.')[1]}` } }), 'IDP_VALIDATION_FAILED', /signature mismatch/)
    expectRefused(await signInIdp('fb-auto', { authResponse: { ...genuine, signedRequest: 'no-dot-here' } }), 'IDP_VALIDATION_FAILED', /authResponse\/signedRequest/)
    expectRefused(await signInIdp('fb-auto', { authResponse: { accessToken: 1, signedRequest: genuine.signedRequest } }), 'IDP_VALIDATION_FAILED', /^value at path \/authResponse\/accessToken: must be string, 1 given$/)
    expectRefused(await signInIdp('fb-auto', { authResponse: 'x' }), 'IDP_VALIDATION_FAILED', /^value at path \/authResponse: must be object/)
    // A correctly signed request for a non-HMAC-SHA256 algorithm.
    const wrongAlgorithm = signRequest({ algorithm: 'none', user_id: '10002' }, FACEBOOK_APP_SECRET)
    expectRefused(await signInIdp('fb-auto', { authResponse: { ...genuine, signedRequest: wrongAlgorithm } }), 'IDP_VALIDATION_FAILED', /HMAC-SHA256/)
    // The app configured with another secret cannot verify Facebook's signature.
    expectRefused(await signInIdp('fb-wrong-secret', { authResponse: sdkLogin('10001') }), 'IDP_VALIDATION_FAILED', /signature mismatch/)
  })

  test('a signed request for one user with another user\'s access token is refused', async () => {
    const mixed = sdkLogin('10002', { signedUserId: '10001' })
    expectRefused(await signInIdp('fb', { authResponse: mixed }), 'IDP_VALIDATION_FAILED', /^signedRequest user_id does not match the user of the access token$/)
  })

  test('an access token issued to another app fails the appsecret_proof: INVALID_IDP_RESPONSE', async () => {
    const genuine = sdkLogin('10001')
    const foreign = peer.foreignToken('10001')
    issuedAccessTokens.push(foreign)
    expectRefused(await signInIdp('fb', { authResponse: { ...genuine, accessToken: foreign } }), 'INVALID_IDP_RESPONSE', /Invalid appsecret_proof/)
  })
})

describe('secrets', () => {
  test('neither the app secret nor any access token reaches the log, the audit log or an error message', async () => {
    const log = server.logs.join('')
    assert.ok(log.length > 0)
    const audit = await server.runtime.database.rows<{ text: string }>(
      sql`select coalesce(error_message, '') || coalesce(event_data::text, '') as text from audit_event where type = 'idp_login'`)
    assert.ok(audit.some((row) => row.text.includes('signature mismatch')), 'failures are audited')
    assert.ok(issuedAccessTokens.length >= 5)
    for (const secret of [FACEBOOK_APP_SECRET, ...issuedAccessTokens]) {
      assert.ok(!log.includes(secret))
      assert.ok(audit.every((row) => !row.text.includes(secret)))
    }
  })
})
