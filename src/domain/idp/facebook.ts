/**
 * Facebook Login, the two ways Contember's facebook provider takes it:
 * - the OAuth 2 authorization-code flow against Facebook's fixed endpoints (the dialog on
 *   www.facebook.com, the token exchange on graph.facebook.com), with state, nonce and PKCE
 *   kept in sessionData exactly as the OIDC flow keeps them, and the code always exchanged
 *   (response_type is code whatever the configuration says). The state is required: it is what
 *   binds the callback to the session, as no ID token is used (Facebook issues one only for the
 *   openid scope, and the Graph API is the authority on the user anyway);
 * - the JS SDK's result, signInIDP data `{authResponse: {accessToken, signedRequest}}`: the
 *   signed request's HMAC-SHA256 is checked with the app secret in constant time and its
 *   user_id must be the user the access token belongs to.
 * Either way the identity is the Graph API's /me (id, name, email), read with an
 * appsecret_proof so that only tokens issued to this app are accepted; `id` becomes sub.
 *
 * Failures: our checks are IdpValidationError (IDP_VALIDATION_FAILED), Facebook refusing or
 * unreachable is IdpResponseError (INVALID_IDP_RESPONSE). No message carries a token or secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { DEFAULT_TIMEOUT_MS, type OidcConfiguration } from './configuration.js'
import {
  checkCallback, fetchJson, IdpResponseError, IdpValidationError, initOidcAuth, readResponseData,
  type Discovery, type IdpClaims, type InitResult,
} from './oidc.js'

/** The Graph API version of the dialog and the token exchange (each version lives two years). */
export const FACEBOOK_GRAPH_VERSION = 'v22.0'
const PROFILE_FIELDS = 'id,name,email'

export type FacebookConfiguration = Omit<OidcConfiguration, 'url'>

export interface FacebookEndpoints {
  /** Origin of the OAuth dialog, https://www.facebook.com in production. */
  facebookDialogUrl: string
  /** Origin of the Graph API, https://graph.facebook.com in production. */
  facebookGraphUrl: string
}

const timeoutOf = (config: FacebookConfiguration) => config.timeout ?? DEFAULT_TIMEOUT_MS

/** Facebook publishes no discovery document for this flow: the endpoints are fixed. */
function discoveryOf(endpoints: FacebookEndpoints): Discovery {
  return {
    issuer: 'https://www.facebook.com',
    authorization_endpoint: `${endpoints.facebookDialogUrl}/${FACEBOOK_GRAPH_VERSION}/dialog/oauth`,
    token_endpoint: `${endpoints.facebookGraphUrl}/${FACEBOOK_GRAPH_VERSION}/oauth/access_token`,
    jwks_uri: `${endpoints.facebookDialogUrl}/.well-known/oauth/openid/jwks/`,
  }
}

export function initFacebookAuth(config: FacebookConfiguration, data: unknown, endpoints: FacebookEndpoints): Promise<InitResult> {
  const oauth: OidcConfiguration = { ...config, url: endpoints.facebookDialogUrl, responseType: 'code', scope: config.scope ?? config.claims ?? 'email' }
  return initOidcAuth(oauth, data, discoveryOf(endpoints))
}

const describe = (value: unknown) => (value === undefined ? 'undefined' : typeof value === 'string' ? 'string' : JSON.stringify(value))

/** Graph API errors are `{error: {message, type, code}}`; OAuth-style `{error, error_description}` is read too. */
function graphError(body: unknown, status: number): string {
  const error = (body as { error?: unknown } | null)?.error
  if (typeof error === 'string') return error
  if (typeof error === 'object' && error !== null) {
    const { type, message } = error as { type?: unknown, message?: unknown }
    return [type, message].filter((part) => typeof part === 'string').join(': ') || `HTTP ${status}`
  }
  return `HTTP ${status}`
}

async function exchangeCode(config: FacebookConfiguration, endpoints: FacebookEndpoints, code: string, redirectUrl: string, codeVerifier: string | undefined): Promise<Record<string, unknown>> {
  const form = new URLSearchParams({ client_id: config.clientId, client_secret: config.clientSecret, redirect_uri: redirectUrl, code })
  if (codeVerifier) form.set('code_verifier', codeVerifier)
  const { status, body } = await fetchJson(discoveryOf(endpoints).token_endpoint, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString(),
  }, timeoutOf(config), 'Facebook token endpoint')
  const tokens = body as Record<string, unknown> | null
  if (status !== 200 || typeof tokens !== 'object' || tokens === null) throw new IdpResponseError(`Facebook token endpoint refused the code: ${graphError(tokens, status)}`)
  if (typeof tokens.access_token !== 'string') throw new IdpValidationError('access_token not present in the token response')
  return tokens
}

/** /me with the token and its appsecret_proof (HMAC-SHA256 of the token keyed with the app secret). */
async function readProfile(config: FacebookConfiguration, endpoints: FacebookEndpoints, accessToken: string): Promise<Record<string, unknown> & { id: string }> {
  const shown = `${endpoints.facebookGraphUrl}/me`
  const url = new URL(shown)
  url.searchParams.set('fields', PROFILE_FIELDS)
  url.searchParams.set('access_token', accessToken)
  url.searchParams.set('appsecret_proof', createHmac('sha256', config.clientSecret).update(accessToken).digest('hex'))
  let answer: { status: number, body: unknown }
  try {
    answer = await fetchJson(url.toString(), { headers: { accept: 'application/json' } }, timeoutOf(config), 'Facebook Graph API')
  } catch (error) {
    // The URL carries the access token: report it without the query.
    if (error instanceof IdpResponseError) throw new IdpResponseError(error.message.replace(url.toString(), shown))
    throw error
  }
  const profile = answer.body as Record<string, unknown> | null
  if (answer.status !== 200 || typeof profile !== 'object' || profile === null) throw new IdpResponseError(`Facebook Graph API /me refused the token: ${graphError(profile, answer.status)}`)
  if (typeof profile.id !== 'string' || profile.id === '') throw new IdpValidationError('Facebook Graph API /me returned no id')
  return profile as Record<string, unknown> & { id: string }
}

const claimsOf = (profile: Record<string, unknown> & { id: string }, extra: Record<string, unknown>): IdpClaims =>
  ({ externalIdentifier: profile.id, ...extra, ...profile, sub: profile.id })

/** The signed request's payload once its signature is proven: `<base64url HMAC>.<base64url JSON>`. */
function verifySignedRequest(signedRequest: string, secret: string): { user_id: string } & Record<string, unknown> {
  const parts = signedRequest.split('.')
  if (parts.length !== 2 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) {
    throw new IdpValidationError('value at path /authResponse/signedRequest: must be <signature>.<payload> in base64url')
  }
  const [encodedSignature, encodedPayload] = parts
  const signature = Buffer.from(encodedSignature, 'base64url')
  const expected = createHmac('sha256', secret).update(encodedPayload).digest()
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    throw new IdpValidationError('signedRequest signature mismatch')
  }
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8'))
  } catch {
    throw new IdpValidationError('signedRequest payload is not JSON')
  }
  const fields = payload as Record<string, unknown> | null
  if (typeof fields !== 'object' || fields === null || String(fields.algorithm).toUpperCase() !== 'HMAC-SHA256') {
    throw new IdpValidationError('signedRequest algorithm must be HMAC-SHA256')
  }
  if (typeof fields.user_id !== 'string' || fields.user_id === '') throw new IdpValidationError('signedRequest has no user_id')
  return fields as { user_id: string } & Record<string, unknown>
}

async function processSdkResponse(config: FacebookConfiguration, endpoints: FacebookEndpoints, authResponse: unknown): Promise<IdpClaims> {
  if (typeof authResponse !== 'object' || authResponse === null || Array.isArray(authResponse)) {
    throw new IdpValidationError(`value at path /authResponse: must be object, ${describe(authResponse)} given`)
  }
  const { accessToken, signedRequest } = authResponse as Record<string, unknown>
  if (typeof accessToken !== 'string' || accessToken === '') throw new IdpValidationError(`value at path /authResponse/accessToken: must be string, ${describe(accessToken)} given`)
  if (typeof signedRequest !== 'string') throw new IdpValidationError(`value at path /authResponse/signedRequest: must be string, ${describe(signedRequest)} given`)
  const payload = verifySignedRequest(signedRequest, config.clientSecret)
  const profile = await readProfile(config, endpoints, accessToken)
  if (profile.id !== payload.user_id) throw new IdpValidationError('signedRequest user_id does not match the user of the access token')
  return claimsOf(profile, {})
}

export async function processFacebookResponse(config: FacebookConfiguration, data: unknown, endpoints: FacebookEndpoints): Promise<IdpClaims> {
  if (typeof data === 'object' && data !== null && 'authResponse' in data) {
    return processSdkResponse(config, endpoints, (data as { authResponse: unknown }).authResponse)
  }
  const response = readResponseData(data)
  checkCallback(discoveryOf(endpoints), response)
  // Without an ID token the state is what binds the callback to the browser that started the flow.
  if (!response.sessionData.state) throw new IdpValidationError('value at path /sessionData/state: must be string, undefined given')
  if (!response.params.code) throw new IdpValidationError('code missing from the response')
  if (!response.redirectUrl) throw new IdpValidationError('value at path /redirectUrl: must be string, undefined given (required to exchange the code)')
  const tokens = await exchangeCode(config, endpoints, response.params.code, response.redirectUrl, response.sessionData.codeVerifier)
  const profile = await readProfile(config, endpoints, tokens.access_token as string)
  return claimsOf(profile, config.returnOIDCResult ? tokens : {})
}
