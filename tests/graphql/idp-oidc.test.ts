/**
 * The OIDC sign-in end to end against a real OpenID provider process: initSignInIDP, the
 * browser's trip through the provider's login page, the callback URL with the code, then
 * signInIDP (the operations are the exact strings @contember/react-client-tenant sends).
 * Person resolution (link, e-mail, autoSignUp, exclusive), PERSON_NOT_FOUND, PERSON_DISABLED,
 * and every way a response is refused: state, nonce, PKCE, a tampered or foreign-signed ID
 * token, wrong audience or expiry, an OP error, a reused code, a missing or disabled provider.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { gql } from '../helpers/http.js'
import { ADD_IDP as ADD, callMutation } from '../helpers/idp.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import {
  Browser, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_HS256_CLIENT_ID, OIDC_REDIRECT_URL, startOidcProvider, type OidcProviderHandle,
} from '../helpers/oidc-provider.js'

// Verbatim from the client reference (contember-client.md §4).
const INIT = `mutation(
	$identityProvider: String!, 
	$data: Json, 
	$redirectUrl: String
) {
	mutation: initSignInIDP(
		identityProvider: $identityProvider, 
		data: $data, 
		redirectUrl: $redirectUrl
	) {
		ok
		error {
			code
			developerMessage
			endUserMessage
		}
		result {
			authUrl
			sessionData
		}
	}
}`
const SIGN_IN = `mutation(
	$identityProvider: String!, 
	$data: Json, 
	$expiration: Int, 
	$idpResponse: IDPResponseInput, 
	$redirectUrl: String, 
	$sessionData: Json
) {
	mutation: signInIDP(
		identityProvider: $identityProvider, 
		data: $data, 
		expiration: $expiration, 
		idpResponse: $idpResponse, 
		redirectUrl: $redirectUrl, 
		sessionData: $sessionData
	) {
		ok
		error {
			code
			developerMessage
			endUserMessage
		}
		result {
			token
			idpResponse
			person {
				id
				email
				name
			}
		}
	}
}`

let server: TestServer
let provider: OidcProviderHandle

const call = (query: string, variables: Record<string, unknown>, token = LOGIN_TOKEN) => callMutation(server.url, query, variables, token)

async function addProvider(slug: string, options: Record<string, boolean> = {}, extra: Record<string, unknown> = {}) {
  const configuration = { url: provider.issuer, clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, scope: 'openid email profile', ...extra }
  assert.equal((await call(ADD, { identityProvider: slug, type: 'oidc', configuration, options }, ROOT_TOKEN)).ok, true)
}

async function signUp(email: string): Promise<string> {
  const response = await gql(server.url, ROOT_TOKEN, 'mutation($email: String!) { signUp(email: $email, password: "password-123") { ok result { person { id } } } }', { email })
  assert.equal(response.body.data.signUp.ok, true, response.text)
  return response.body.data.signUp.result.person.id
}

/** initSignInIDP, then the browser signs in at the provider; returns what signInIDP needs. */
async function authorize(slug: string, login: string, password: string) {
  const init = await call(INIT, { identityProvider: slug, data: { redirectUrl: OIDC_REDIRECT_URL } })
  assert.equal(init.ok, true, JSON.stringify(init))
  const url = await new Browser().signInAt(init.result.authUrl, login, password)
  return { url, sessionData: init.result.sessionData as Record<string, string>, authUrl: init.result.authUrl as string }
}

async function signInIdp(slug: string, data: Record<string, unknown>) {
  return call(SIGN_IN, { identityProvider: slug, data, expiration: 20160 })
}

async function fullSignIn(slug: string, login: string, password: string) {
  const { url, sessionData } = await authorize(slug, login, password)
  return signInIdp(slug, { url, redirectUrl: OIDC_REDIRECT_URL, sessionData })
}

before(async () => {
  // Logs are captured at the most verbose level to prove that no secret or token reaches them.
  [server, provider] = await Promise.all([startTestServer({ captureLogs: true, env: { LOG_LEVEL: 'trace' } }), startOidcProvider()])
  await addProvider('corp')
  await addProvider('auto', { autoSignUp: true }, { fetchUserInfo: true })
  await addProvider('exclusive', { autoSignUp: true, exclusive: true })
  await addProvider('with-config', { initReturnsConfig: true })
})
after(async () => { await Promise.all([server?.close(), provider?.close()]) })

describe('initSignInIDP', () => {
  test('authUrl carries state, nonce and an S256 PKCE challenge; sessionData keeps them', async () => {
    const init = await call(INIT, { identityProvider: 'corp', data: { redirectUrl: OIDC_REDIRECT_URL } })
    assert.equal(init.ok, true)
    assert.equal(init.error, null)
    const url = new URL(init.result.authUrl)
    assert.equal(`${url.origin}${url.pathname}`, `${provider.issuer}/auth`)
    assert.equal(url.searchParams.get('client_id'), OIDC_CLIENT_ID)
    assert.equal(url.searchParams.get('redirect_uri'), OIDC_REDIRECT_URL)
    assert.equal(url.searchParams.get('response_type'), 'code')
    assert.equal(url.searchParams.get('scope'), 'openid email profile')
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
    assert.match(url.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(url.searchParams.get('state'), init.result.sessionData.state)
    assert.equal(url.searchParams.get('nonce'), init.result.sessionData.nonce)
    assert.equal(url.searchParams.get('client_secret'), null)
    assert.ok(!init.result.authUrl.includes(OIDC_CLIENT_SECRET))
  })

  test('idpConfiguration is the public configuration only when initReturnsConfig', async () => {
    const withConfig = await gql(server.url, LOGIN_TOKEN, 'mutation($data: Json) { initSignInIDP(identityProvider: "with-config", data: $data) { ok result { idpConfiguration } } }', { data: { redirectUrl: OIDC_REDIRECT_URL } })
    assert.deepEqual(withConfig.body.data.initSignInIDP.result.idpConfiguration, { url: provider.issuer, clientId: OIDC_CLIENT_ID, scope: 'openid email profile' })
    const without = await gql(server.url, LOGIN_TOKEN, 'mutation($data: Json) { initSignInIDP(identityProvider: "corp", data: $data) { ok result { idpConfiguration } } }', { data: { redirectUrl: OIDC_REDIRECT_URL } })
    assert.equal(without.body.data.initSignInIDP.result.idpConfiguration, null)
  })

  test('PROVIDER_NOT_FOUND for a missing or disabled provider; IDP_VALIDATION_FAILED for bad data', async () => {
    const missing = await call(INIT, { identityProvider: 'nope', data: { redirectUrl: OIDC_REDIRECT_URL } })
    assert.deepEqual(missing.error, { code: 'PROVIDER_NOT_FOUND', developerMessage: 'Identity provider nope not found', endUserMessage: null })
    await addProvider('off')
    await call('mutation { mutation: disableIDP(identityProvider: "off") { ok } }', {}, ROOT_TOKEN)
    assert.equal((await call(INIT, { identityProvider: 'off', data: { redirectUrl: OIDC_REDIRECT_URL } })).error.code, 'PROVIDER_NOT_FOUND')
    const noRedirect = await call(INIT, { identityProvider: 'corp', data: {} })
    assert.deepEqual(noRedirect.error, { code: 'IDP_VALIDATION_FAILED', developerMessage: 'value at path /redirectUrl: must be string, undefined given', endUserMessage: null })
    const extra = await call(INIT, { identityProvider: 'corp', data: { redirectUrl: OIDC_REDIRECT_URL, other: 1 } })
    assert.equal(extra.error.code, 'IDP_VALIDATION_FAILED')
  })

  test('the deprecated top-level redirectUrl still works', async () => {
    const init = await call(INIT, { identityProvider: 'corp', redirectUrl: OIDC_REDIRECT_URL })
    assert.equal(init.ok, true)
    assert.equal(new URL(init.result.authUrl).searchParams.get('redirect_uri'), OIDC_REDIRECT_URL)
  })

  test('a provider that cannot be reached is IDP_VALIDATION_FAILED, not an internal error', async () => {
    await call(ADD, { identityProvider: 'unreachable', type: 'oidc', configuration: { url: 'http://127.0.0.1:9', clientId: 'c', clientSecret: 's', timeout: 1000 } }, ROOT_TOKEN)
    const init = await call(INIT, { identityProvider: 'unreachable', data: { redirectUrl: OIDC_REDIRECT_URL } })
    assert.equal(init.error.code, 'IDP_VALIDATION_FAILED')
    assert.match(init.error.developerMessage, /OpenID discovery at http:\/\/127\.0\.0\.1:9\/\.well-known\/openid-configuration could not be reached/)
  })
})

describe('signInIDP: person resolution', () => {
  test('an existing person is found by the e-mail claim, linked, and gets a working session', async () => {
    const aliceId = await signUp('alice@example.com')
    const signedIn = await fullSignIn('corp', 'sub-alice', 'alice-pw')
    assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
    assert.deepEqual(signedIn.result.person, { id: aliceId, email: 'alice@example.com', name: 'alice' })
    assert.match(signedIn.result.token, /^[0-9a-f]{40}$/)
    const claims = signedIn.result.idpResponse
    assert.equal(claims.externalIdentifier, 'sub-alice')
    assert.equal(claims.sub, 'sub-alice')
    assert.equal(claims.email, 'alice@example.com')
    assert.equal(claims.iss, provider.issuer)
    assert.equal(claims.nonce, undefined)
    assert.equal(claims.at_hash, undefined)
    const me = await gql(server.url, signedIn.result.token, '{ me { person { id email } } }')
    assert.deepEqual(me.body.data.me.person, { id: aliceId, email: 'alice@example.com' })
    const [key] = await server.runtime.database.rows<{ type: string, expiration: number }>(
      sql`select type, expiration from api_key where token_hash = encode(sha256(convert_to(${signedIn.result.token}, 'UTF8')), 'hex')`)
    assert.equal(key.type, 'session')
    const links = await server.runtime.database.rows<{ external_identifier: string }>(
      sql`select external_identifier from person_identity_provider where person_id = ${aliceId}`)
    assert.deepEqual(links.map((link) => link.external_identifier), ['sub-alice'])

    // The second time the link is used, not the e-mail: it still resolves after the e-mail changes.
    await server.runtime.database.rows(sql`update person set email = 'alice.renamed@example.com' where id = ${aliceId}`)
    const again = await fullSignIn('corp', 'sub-alice', 'alice-pw')
    assert.equal(again.result.person.id, aliceId)
  })

  test('autoSignUp creates a person (name from the claim, or the e-mail local part) and links it', async () => {
    const bob = await fullSignIn('auto', 'sub-bob', 'bob-pw')
    assert.equal(bob.ok, true, JSON.stringify(bob))
    assert.equal(bob.result.person.email, 'bob@example.com')
    assert.equal(bob.result.person.name, 'Bob Builder')
    assert.equal(bob.result.idpResponse.email_verified, true, 'userinfo claims are merged')
    const carol = await fullSignIn('auto', 'sub-carol', 'carol-pw')
    assert.equal(carol.result.person.name, 'carol')
    const [row] = await server.runtime.database.rows<{ roles: string[], idp_only: boolean, password_hash: string | null }>(
      sql`select i.roles, p.idp_only, p.password_hash from person p join identity i on i.id = p.identity_id where p.id = ${bob.result.person.id}`)
    assert.deepEqual(row, { roles: ['person'], idp_only: false, password_hash: null })
    const again = await fullSignIn('auto', 'sub-bob', 'bob-pw')
    assert.equal(again.result.person.id, bob.result.person.id, 'no second person')
  })

  test('an exclusive provider never links by e-mail; its new persons have no e-mail and are idp_only', async () => {
    const erinId = await signUp('erin@example.com')
    const erin = await fullSignIn('exclusive', 'sub-erin', 'erin-pw')
    assert.equal(erin.ok, true, JSON.stringify(erin))
    assert.notEqual(erin.result.person.id, erinId)
    assert.equal(erin.result.person.email, null)
    assert.equal(erin.result.person.name, 'Erin')
    const [row] = await server.runtime.database.rows<{ email: string | null, idp_only: boolean }>(
      sql`select email, idp_only from person where id = ${erin.result.person.id}`)
    assert.deepEqual(row, { email: null, idp_only: true })
  })

  test('PERSON_NOT_FOUND without a match and without autoSignUp', async () => {
    const frank = await fullSignIn('corp', 'sub-frank', 'frank-pw')
    assert.deepEqual(frank, {
      ok: false, result: null,
      error: { code: 'PERSON_NOT_FOUND', developerMessage: 'Person frank@example.com not found', endUserMessage: null },
    })
    const persons = await server.runtime.database.rows(sql`select id from person where email = 'frank@example.com'`)
    assert.equal(persons.length, 0)
  })

  test('PERSON_DISABLED for a disabled person', async () => {
    const graceId = await signUp('grace@example.com')
    const disabled = await gql(server.url, ROOT_TOKEN, 'mutation($id: String!) { disablePerson(personId: $id) { ok } }', { id: graceId })
    assert.equal(disabled.body.data.disablePerson.ok, true, disabled.text)
    const grace = await fullSignIn('corp', 'sub-grace', 'grace-pw')
    assert.equal(grace.ok, false)
    assert.equal(grace.error.code, 'PERSON_DISABLED')
    assert.equal(grace.result, null)
  })

  test('two first sign-ins of the same new account at once end with one person', async () => {
    const [first, second] = await Promise.all([authorize('auto', 'sub-dave', 'dave-pw'), authorize('auto', 'sub-dave', 'dave-pw')])
    const results = await Promise.all([first, second].map(({ url, sessionData }) => signInIdp('auto', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData })))
    assert.ok(results.every((result) => result.ok), JSON.stringify(results))
    assert.equal(results[0].result.person.id, results[1].result.person.id)
    const persons = await server.runtime.database.rows(sql`select id from person where email = 'dave@example.com'`)
    assert.equal(persons.length, 1)
  })

  test('HS256 ID tokens are verified with the client secret', async () => {
    await addProvider('hs256', {}, { clientId: OIDC_HS256_CLIENT_ID, idTokenSignedResponseAlg: 'HS256' })
    const signedIn = await fullSignIn('hs256', 'sub-bob', 'bob-pw')
    assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
    assert.equal(signedIn.result.idpResponse.aud, OIDC_HS256_CLIENT_ID)
  })

  test('the deprecated idpResponse / redirectUrl / sessionData arguments still work', async () => {
    await signUp('heidi@example.com')
    const { url, sessionData } = await authorize('corp', 'sub-heidi', 'heidi-pw')
    const signedIn = await call(SIGN_IN, { identityProvider: 'corp', idpResponse: { url }, redirectUrl: OIDC_REDIRECT_URL, sessionData })
    assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
    assert.equal(signedIn.result.person.email, 'heidi@example.com')
  })

  test('idp_login is audited for success and failure, with no token in it', async () => {
    const events = await server.runtime.database.rows<{ success: boolean, error_code: string | null, text: string }>(
      sql`select success, error_code, coalesce(event_data::text, '') as text from audit_event where type = 'idp_login'`)
    assert.ok(events.some((event) => event.success))
    assert.ok(events.some((event) => !event.success && event.error_code === 'PERSON_NOT_FOUND'))
    assert.ok(events.some((event) => !event.success && event.error_code === 'PERSON_DISABLED'))
    const tokens = await server.runtime.database.rows<{ token_hash: string }>(sql`select token_hash from api_key`)
    assert.ok(events.every((event) => !event.text.includes(OIDC_CLIENT_SECRET) && tokens.every((t) => !event.text.includes(t.token_hash))))
  })
})

describe('signInIDP: refused responses', () => {
  const expectRefused = (result: { ok: boolean, error: { code: string, developerMessage: string }, result: unknown }, code: string, message: RegExp) => {
    assert.equal(result.ok, false, JSON.stringify(result))
    assert.equal(result.result, null)
    assert.equal(result.error.code, code)
    assert.match(result.error.developerMessage, message)
  }

  test('a state that does not match the session is refused before the code is used', async () => {
    const { url, sessionData } = await authorize('corp', 'sub-alice', 'alice-pw')
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData: { ...sessionData, state: 'forged' } }), 'IDP_VALIDATION_FAILED', /^state mismatch/)
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL }), 'IDP_VALIDATION_FAILED', /state is present in parameters, but missing in session data/)
    // The code was not spent: the genuine session still signs in.
    assert.equal((await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData })).ok, true)
  })

  test('a nonce that does not match the ID token is refused', async () => {
    const { url, sessionData } = await authorize('corp', 'sub-alice', 'alice-pw')
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData: { ...sessionData, nonce: 'forged' } }), 'IDP_VALIDATION_FAILED', /^nonce mismatch/)
  })

  test('without the PKCE verifier the provider refuses the code (INVALID_IDP_RESPONSE)', async () => {
    const { url, sessionData } = await authorize('corp', 'sub-alice', 'alice-pw')
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData: { state: sessionData.state, nonce: sessionData.nonce } }), 'INVALID_IDP_RESPONSE', /invalid_grant/)
  })

  test('a code is usable once', async () => {
    const { url, sessionData } = await authorize('corp', 'sub-alice', 'alice-pw')
    assert.equal((await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData })).ok, true)
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData }), 'INVALID_IDP_RESPONSE', /invalid_grant/)
  })

  test('an ID token whose payload was altered fails the signature check', async () => {
    const { url, sessionData } = await authorize('corp', 'sub-alice', 'alice-pw')
    await provider.tamperNextIdToken('payload')
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData }), 'IDP_VALIDATION_FAILED', /signature verification failed/)
  })

  test('an ID token signed with a key not in the provider JWKS is refused', async () => {
    const { url, sessionData } = await authorize('corp', 'sub-alice', 'alice-pw')
    await provider.tamperNextIdToken('foreign-key')
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData }), 'IDP_VALIDATION_FAILED', /signature verification failed/)
  })

  test('ID tokens signed by the provider but for another audience, expired, or with an untrusted azp are refused', async () => {
    // A provider in the implicit flow takes the ID token straight from the callback parameters.
    await addProvider('implicit', {}, { responseType: 'id_token' })
    const session = { state: 's1', nonce: 'n1' }
    const tryToken = async (claims: Record<string, unknown>) => signInIdp('implicit', {
      parameters: { state: 's1', iss: provider.issuer, id_token: await provider.signIdToken({ sub: 'sub-bob', email: 'bob@example.com', nonce: 'n1', ...claims }) },
      sessionData: session,
    })
    const now = Math.floor(Date.now() / 1000)
    expectRefused(await tryToken({ aud: 'someone-else' }), 'IDP_VALIDATION_FAILED', /"aud" claim/)
    expectRefused(await tryToken({ iat: now - 7200, exp: now - 3600 }), 'IDP_VALIDATION_FAILED', /"exp" claim/)
    expectRefused(await tryToken({ iss: 'https://evil.example.com' }), 'IDP_VALIDATION_FAILED', /"iss" claim/)
    expectRefused(await tryToken({ aud: [OIDC_CLIENT_ID, 'other'] }), 'IDP_VALIDATION_FAILED', /azp/)
    expectRefused(await tryToken({ azp: 'other' }), 'IDP_VALIDATION_FAILED', /azp mismatch/)
    expectRefused(await tryToken({ nonce: undefined }), 'IDP_VALIDATION_FAILED', /^nonce mismatch/)
    // The same token with the right claims passes: the refusals above are about those claims.
    const good = await tryToken({})
    assert.equal(good.ok, true, JSON.stringify(good))
    // A code-flow provider never takes an ID token from the callback, even a valid one.
    const token = await provider.signIdToken({ sub: 'sub-alice', nonce: 'n1' })
    expectRefused(await signInIdp('corp', { parameters: { state: 's1', iss: provider.issuer, id_token: token }, sessionData: session }), 'IDP_VALIDATION_FAILED', /code missing from the response/)
    // Without a nonce in the session data nothing is accepted.
    expectRefused(await signInIdp('implicit', { parameters: { iss: provider.issuer, id_token: await provider.signIdToken({ sub: 'sub-bob' }) } }), 'IDP_VALIDATION_FAILED', /sessionData\/nonce/)
  })

  test('an ID token signed with another algorithm than the configured one is refused', async () => {
    await addProvider('expects-es256', {}, { idTokenSignedResponseAlg: 'ES256' })
    const { url, sessionData } = await authorize('expects-es256', 'sub-alice', 'alice-pw')
    expectRefused(await signInIdp('expects-es256', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData }), 'IDP_VALIDATION_FAILED', /alg/)
  })

  test('an error from the provider in the callback is INVALID_IDP_RESPONSE', async () => {
    const init = await call(INIT, { identityProvider: 'corp', data: { redirectUrl: OIDC_REDIRECT_URL } })
    const url = `${OIDC_REDIRECT_URL}?error=access_denied&error_description=user+said+no&state=${init.result.sessionData.state}`
    expectRefused(await signInIdp('corp', { url, redirectUrl: OIDC_REDIRECT_URL, sessionData: init.result.sessionData }), 'INVALID_IDP_RESPONSE', /^access_denied \(user said no\)$/)
  })

  test('malformed data is IDP_VALIDATION_FAILED', async () => {
    expectRefused(await signInIdp('corp', { redirectUrl: OIDC_REDIRECT_URL }), 'IDP_VALIDATION_FAILED', /value at path \/url: must be string, undefined given/)
    expectRefused(await signInIdp('corp', { url: 'not a url' }), 'IDP_VALIDATION_FAILED', /value at path \/url/)
  })

  test('a missing or disabled provider is an error code, not an internal error (Contember bug fixed)', async () => {
    const missing = await signInIdp('nope', { url: `${OIDC_REDIRECT_URL}?code=x` })
    assert.deepEqual(missing.error, { code: 'IDP_VALIDATION_FAILED', developerMessage: 'Identity provider nope not found or disabled', endUserMessage: null })
    const disabled = await signInIdp('off', { url: `${OIDC_REDIRECT_URL}?code=x` })
    assert.equal(disabled.error.code, 'IDP_VALIDATION_FAILED')
  })
})

describe('secrets', () => {
  test('neither the client secret nor any session token appears in the server log', async () => {
    assert.ok(server.logs.length > 0, 'the log was captured')
    const log = server.logs.join('')
    assert.ok(!log.includes(OIDC_CLIENT_SECRET))
    const alice = await fullSignIn('corp', 'sub-alice', 'alice-pw')
    assert.ok(!server.logs.join('').includes(alice.result.token))
  })
})

describe('signInIDP: permissions', () => {
  test('a person session may not start or finish an IdP sign-in, nor manage providers', async () => {
    const alice = await fullSignIn('corp', 'sub-alice', 'alice-pw')
    const token = alice.result.token
    const init = await gql(server.url, token, INIT, { identityProvider: 'corp', data: { redirectUrl: OIDC_REDIRECT_URL } })
    assert.equal(init.status, 200)
    assert.equal(init.body.data.mutation, null)
    assert.deepEqual(init.body.errors[0].extensions, { code: 'ForbiddenError' })
    assert.equal(init.body.errors[0].message, 'You are not allowed to create a redirect URL for IDP')
    const signIn = await gql(server.url, token, SIGN_IN, { identityProvider: 'corp', data: { url: OIDC_REDIRECT_URL } })
    assert.equal(signIn.body.errors[0].message, 'You are not allowed to person IDP sign in')
    const add = await gql(server.url, token, ADD, { identityProvider: 'x', type: 'oidc', configuration: {} })
    assert.equal(add.body.errors[0].message, 'You are not allowed to add IDP')
  })
})
