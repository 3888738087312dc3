/**
 * signOut.logoutUrl (OIDC RP-initiated logout) against real OpenID provider processes: a session
 * signed in through a provider whose discovery has end_session_endpoint gets that URL with
 * id_token_hint, client_id and the configured postLogoutRedirectUri, which the provider accepts
 * (the browser is signed out there and sent back); the ID token is kept encrypted only until
 * sign-out. A provider without the endpoint, and password sessions, get null. The person's auth
 * policy shapes IdP sessions too.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { personSession } from '../helpers/accounts.js'
import { createPolicy, deletePolicy } from '../helpers/auth-policies.js'
import {
  Browser, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_POST_LOGOUT_URL, OIDC_REDIRECT_URL, startOidcProvider, type OidcProviderHandle,
} from '../helpers/oidc-provider.js'

let server: TestServer
let provider: OidcProviderHandle
let legacy: OidcProviderHandle

const ADD = 'mutation($slug: String!, $configuration: Json!) { addIDP(identityProvider: $slug, type: "oidc", configuration: $configuration, options: { autoSignUp: true }) { ok error { code developerMessage } } }'
const INIT = 'mutation($slug: String!, $data: Json) { initSignInIDP(identityProvider: $slug, data: $data) { ok result { authUrl sessionData } } }'
const SIGN_IN = 'mutation($slug: String!, $data: Json, $expiration: Int) { signInIDP(identityProvider: $slug, data: $data, expiration: $expiration) { ok error { code developerMessage } result { token person { id } } } }'
const SIGN_OUT = 'mutation($all: Boolean) { signOut(all: $all) { ok error { code } logoutUrl } }'

async function addProvider(slug: string, issuer: string, extra: Record<string, unknown> = {}) {
  const configuration = { url: issuer, clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, scope: 'openid email profile', ...extra }
  const added = await gql(server.url, ROOT_TOKEN, ADD, { slug, configuration })
  assert.equal(added.body.data.addIDP.ok, true, added.text)
}

before(async () => {
  [server, provider, legacy] = await Promise.all([startTestServer(), startOidcProvider(), startOidcProvider({ rpInitiatedLogout: false })])
  await addProvider('corp', provider.issuer, { postLogoutRedirectUri: OIDC_POST_LOGOUT_URL })
  await addProvider('corp-plain', provider.issuer)
  await addProvider('legacy', legacy.issuer)
})
after(async () => { await Promise.all([server?.close(), provider?.close(), legacy?.close()]) })

/** The whole sign-in through the provider in one browser; returns the session token, the person and the browser (with the provider's cookies). */
async function idpSession(slug: string, login: string, expiration?: number) {
  const init = (await gql(server.url, LOGIN_TOKEN, INIT, { slug, data: { redirectUrl: OIDC_REDIRECT_URL } })).body.data.initSignInIDP
  assert.equal(init.ok, true)
  const browser = new Browser()
  const url = await browser.signInAt(init.result.authUrl, login, `${login.slice(4)}-pw`)
  const signedIn = (await gql(server.url, LOGIN_TOKEN, SIGN_IN, { slug, data: { url, redirectUrl: OIDC_REDIRECT_URL, sessionData: init.result.sessionData }, expiration })).body.data.signInIDP
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
  return { token: signedIn.result.token as string, personId: signedIn.result.person.id as string, browser }
}

const rows = <T>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)
const signOut = async (token: string, all?: boolean) => (await gql(server.url, token, SIGN_OUT, { all })).body.data.signOut
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))

test('an OIDC session signs out with the provider\'s end_session_endpoint, id_token_hint and the post-logout URI; the provider accepts it', async () => {
  const { token, personId, browser } = await idpSession('corp', 'sub-alice')
  const discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json() as { end_session_endpoint: string }
  const [kept] = await rows<{ id_token_encrypted: string }>(sql`select s.id_token_encrypted from idp_session s join api_key k on k.id = s.api_key_id join person p on p.identity_id = k.identity_id where p.id = ${personId}`)
  assert.match(kept.id_token_encrypted, /^v1:/, 'the ID token is stored encrypted')

  const result = await signOut(token)
  assert.equal(result.ok, true)
  const logout = new URL(result.logoutUrl)
  assert.equal(`${logout.origin}${logout.pathname}`, discovery.end_session_endpoint)
  assert.deepEqual([...logout.searchParams.keys()].sort(), ['client_id', 'id_token_hint', 'post_logout_redirect_uri'])
  assert.equal(logout.searchParams.get('client_id'), OIDC_CLIENT_ID)
  assert.equal(logout.searchParams.get('post_logout_redirect_uri'), OIDC_POST_LOGOUT_URL)
  const hint = claimsOf(logout.searchParams.get('id_token_hint')!)
  assert.deepEqual([hint.iss, hint.sub, hint.aud], [provider.issuer, 'sub-alice', OIDC_CLIENT_ID])
  assert.ok(!kept.id_token_encrypted.includes(logout.searchParams.get('id_token_hint')!))

  assert.equal((await gql(server.url, token, '{ me { id } }')).status, 401, 'the local session ended')
  assert.deepEqual(await rows(sql`select 1 from idp_session s join api_key k on k.id = s.api_key_id join person p on p.identity_id = k.identity_id where p.id = ${personId}`), [],
    'the ID token is gone with the session')
  const audit = await rows<{ identity_provider_id: string, event_data: any }>(sql`select identity_provider_id, event_data from audit_event where type = 'idp_logout_initiated' and person_id = ${personId}`)
  assert.equal(audit.length, 1)
  assert.equal(audit[0].event_data.identityProvider, 'corp')

  // The browser follows the URL: the provider confirms, ends its session and sends it back.
  const page = await browser.get(result.logoutUrl)
  assert.equal(page.status, 200, 'the provider accepted id_token_hint and the redirect URI')
  const html = await page.text()
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1]
  assert.ok(action && xsrf, html)
  const confirmed = await browser.postForm(new URL(action, provider.issuer).toString(), { xsrf, logout: 'yes' })
  assert.equal(confirmed.status, 303)
  assert.ok(confirmed.headers.get('location')!.startsWith(OIDC_POST_LOGOUT_URL), String(confirmed.headers.get('location')))
})

test('without postLogoutRedirectUri the URL has no post_logout_redirect_uri; signOut(all) also answers it and forgets every kept token', async () => {
  const first = await idpSession('corp-plain', 'sub-bob')
  const second = await idpSession('corp-plain', 'sub-bob')
  const result = await signOut(second.token, true)
  const logout = new URL(result.logoutUrl)
  assert.deepEqual([...logout.searchParams.keys()].sort(), ['client_id', 'id_token_hint'])
  assert.equal((await first.browser.get(result.logoutUrl)).status, 200)
  assert.equal((await gql(server.url, first.token, '{ me { id } }')).status, 401)
  assert.deepEqual(await rows(sql`select 1 from idp_session s join api_key k on k.id = s.api_key_id join person p on p.identity_id = k.identity_id where p.id = ${first.personId}`), [])
})

test('a provider without end_session_endpoint, and a password session: logoutUrl null, nothing kept, no idp_logout_initiated', async () => {
  const { token, personId } = await idpSession('legacy', 'sub-carol')
  assert.deepEqual(await rows(sql`select 1 from idp_session s join api_key k on k.id = s.api_key_id join person p on p.identity_id = k.identity_id where p.id = ${personId}`), [])
  assert.deepEqual(await signOut(token), { ok: true, error: null, logoutUrl: null })
  const plain = await personSession(server.url)
  assert.deepEqual(await signOut(plain.token), { ok: true, error: null, logoutUrl: null })
  assert.deepEqual(await rows(sql`select 1 from audit_event where type = 'idp_logout_initiated' and person_id in (${personId}, ${plain.personId})`), [])
})

test('the person\'s auth policy shapes an IdP session too', async () => {
  const policyId = await createPolicy(server.url, { scope: 'global', roles: ['person'], tokenExpiration: 'PT5M' })
  try {
    const { token } = await idpSession('corp', 'sub-dave', 600)
    const sessions = (await gql(server.url, token, '{ me { sessions { isCurrent expiresAt } } }')).body.data.me.sessions
    const left = Date.parse(sessions.find((s: any) => s.isCurrent).expiresAt) - Date.now()
    assert.ok(left > 4 * 60_000 && left <= 5 * 60_000, `capped at 5 minutes, ${left} ms left`)
  } finally {
    await deletePolicy(server.url, policyId)
  }
})
