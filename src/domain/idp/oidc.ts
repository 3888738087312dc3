/**
 * The OpenID Connect relying party: authorization-code flow with PKCE (S256), nonce and state.
 * Discovery from `url` + /.well-known/openid-configuration; the code is exchanged with the
 * client secret (client_secret_basic, or _post when that is all the provider takes); the ID
 * token is verified with jose against the provider's JWKS (signature, alg, issuer, audience and
 * authorized party, expiry, nonce); userinfo is fetched on request. Every request is bounded by
 * the configured timeout.
 *
 * Failures are one of two kinds, as Contember reports them: IdpValidationError (our checks of
 * the response failed: IDP_VALIDATION_FAILED) and IdpResponseError (the provider answered with an
 * error or could not be reached: INVALID_IDP_RESPONSE). Messages never contain the secret.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { DEFAULT_TIMEOUT_MS, type OidcConfiguration } from './configuration.js'

export class IdpValidationError extends Error {}
export class IdpResponseError extends Error {}

export interface Discovery {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
  userinfo_endpoint?: string
  token_endpoint_auth_methods_supported?: string[]
  authorization_response_iss_parameter_supported?: boolean
  /** RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). */
  end_session_endpoint?: string
}

export interface InitResult {
  authUrl: string
  /** Kept by the client between the redirect and the callback; passed back to signInIDP. */
  sessionData: { nonce: string, state: string, codeVerifier?: string }
}

/** The claims Contember returns as `idpResponse`, with `externalIdentifier` = sub. */
export type IdpClaims = Record<string, unknown> & { externalIdentifier: string }

export interface IdpSignIn {
  claims: IdpClaims
  /** The verified ID token, only when the provider offers RP-initiated logout: signOut sends it back as id_token_hint. */
  logoutIdToken?: string
}

const DISCOVERY_TTL_MS = 10 * 60 * 1000
const discoveries = new Map<string, { at: number, doc: Discovery }>()
const keySets = new Map<string, JWTVerifyGetKey>()

const timeoutOf = (config: OidcConfiguration) => config.timeout ?? DEFAULT_TIMEOUT_MS
const randomValue = () => randomBytes(32).toString('base64url')

export async function fetchJson(url: string, init: RequestInit, timeoutMs: number, what: string): Promise<{ status: number, body: unknown }> {
  let response: Response
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'could not be reached'
    throw new IdpResponseError(`${what} at ${url} ${reason}`)
  }
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) }
  } catch {
    throw new IdpResponseError(`${what} at ${url} answered ${response.status} without JSON`)
  }
}

/** The provider's discovery document, cached for ten minutes per URL. */
export async function discover(config: OidcConfiguration): Promise<Discovery> {
  const cached = discoveries.get(config.url)
  if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.doc
  const url = config.url.includes('/.well-known/') ? config.url : `${config.url.replace(/\/+$/, '')}/.well-known/openid-configuration`
  const { status, body } = await fetchJson(url, { headers: { accept: 'application/json' } }, timeoutOf(config), 'OpenID discovery')
  const doc = body as Partial<Discovery>
  if (status !== 200 || typeof doc !== 'object' || doc === null) throw new IdpResponseError(`OpenID discovery at ${url} answered ${status}`)
  for (const field of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    if (typeof doc[field] !== 'string') throw new IdpResponseError(`OpenID discovery at ${url} has no ${field}`)
  }
  discoveries.set(config.url, { at: Date.now(), doc: doc as Discovery })
  return doc as Discovery
}

function keySet(jwksUri: string, timeoutMs: number): JWTVerifyGetKey {
  const key = `${timeoutMs} ${jwksUri}`
  let set = keySets.get(key)
  if (!set) {
    set = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: timeoutMs })
    keySets.set(key, set)
  }
  return set
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value)
}

/** initSignInIDP's `data`: exactly {redirectUrl: String!, responseMode?: String}. */
function readInitData(data: unknown): { redirectUrl: string, responseMode?: string } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new IdpValidationError(`value at path /: must be object, ${describe(data)} given`)
  const { redirectUrl, responseMode, ...extra } = data as Record<string, unknown>
  if (typeof redirectUrl !== 'string') throw new IdpValidationError(`value at path /redirectUrl: must be string, ${describe(redirectUrl)} given`)
  if (responseMode !== undefined && typeof responseMode !== 'string') throw new IdpValidationError(`value at path /responseMode: must be string, ${describe(responseMode)} given`)
  const [unexpected] = Object.keys(extra)
  if (unexpected !== undefined) throw new IdpValidationError(`value at path /${unexpected}: extra property`)
  return { redirectUrl, responseMode }
}

/** `pkce: false` for providers whose authorization endpoint documents no PKCE (Apple). */
export async function initOidcAuth(config: OidcConfiguration, data: unknown, discovery?: Discovery, { pkce = true } = {}): Promise<InitResult> {
  const init = readInitData(data)
  const doc = discovery ?? await discover(config)
  const nonce = randomValue()
  const state = randomValue()
  const codeVerifier = pkce ? randomValue() : undefined
  const url = new URL(doc.authorization_endpoint)
  const params: Record<string, string | undefined> = {
    client_id: config.clientId,
    response_type: config.responseType ?? 'code',
    redirect_uri: init.redirectUrl,
    scope: config.scope ?? config.claims ?? 'openid email',
    response_mode: init.responseMode,
    nonce,
    state,
    code_challenge: codeVerifier && createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: codeVerifier && 'S256',
  }
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value)
  return { authUrl: url.toString(), sessionData: codeVerifier ? { nonce, state, codeVerifier } : { nonce, state } }
}

export interface ResponseData {
  params: Record<string, string>
  redirectUrl?: string
  sessionData: { nonce?: string, state?: string, codeVerifier?: string }
}

/** signInIDP's `data`: {url | parameters, redirectUrl?, sessionData?{nonce, state}}. */
export function readResponseData(data: unknown): ResponseData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new IdpValidationError(`value at path /: must be object, ${describe(data)} given`)
  const input = data as Record<string, unknown>
  let params: Record<string, string>
  if (typeof input.url === 'string') {
    let url: URL
    try {
      url = new URL(input.url)
    } catch {
      throw new IdpValidationError('value at path /url: must be a valid URL')
    }
    // Fragment response mode puts the parameters after '#'; query mode before it.
    params = Object.fromEntries([...new URLSearchParams(url.hash.slice(1)), ...url.searchParams])
  } else if (typeof input.parameters === 'object' && input.parameters !== null && !Array.isArray(input.parameters)
    && Object.values(input.parameters).every((value) => typeof value === 'string')) {
    params = input.parameters as Record<string, string>
  } else {
    throw new IdpValidationError(`value at path /url: must be string, ${describe(input.url)} given`)
  }
  if (input.redirectUrl !== undefined && input.redirectUrl !== null && typeof input.redirectUrl !== 'string') {
    throw new IdpValidationError(`value at path /redirectUrl: must be string, ${describe(input.redirectUrl)} given`)
  }
  const session = input.sessionData ?? {}
  if (typeof session !== 'object' || session === null || Array.isArray(session)) throw new IdpValidationError(`value at path /sessionData: must be object, ${describe(session)} given`)
  const sessionData: ResponseData['sessionData'] = {}
  for (const key of ['nonce', 'state', 'codeVerifier'] as const) {
    const value = (session as Record<string, unknown>)[key]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string') throw new IdpValidationError(`value at path /sessionData/${key}: must be string, ${describe(value)} given`)
    sessionData[key] = value
  }
  return { params, redirectUrl: (input.redirectUrl as string | undefined) ?? undefined, sessionData }
}

export function checkCallback(doc: Discovery, { params, sessionData }: ResponseData): void {
  if (params.error) {
    throw new IdpResponseError(params.error_description ? `${params.error} (${params.error_description})` : params.error)
  }
  if (params.state && !sessionData.state) throw new IdpValidationError('state is present in parameters, but missing in session data')
  if (sessionData.state && !params.state) throw new IdpValidationError('state missing from the response')
  if (sessionData.state !== params.state) throw new IdpValidationError(`state mismatch, expected ${sessionData.state}, got: ${params.state}`)
  if (params.iss !== undefined && params.iss !== doc.issuer) throw new IdpValidationError(`iss mismatch, expected ${doc.issuer}, got: ${params.iss}`)
  if (params.iss === undefined && doc.authorization_response_iss_parameter_supported) throw new IdpValidationError('iss missing from the response')
}

async function exchangeCode(config: OidcConfiguration, doc: Discovery, code: string, data: ResponseData): Promise<Record<string, unknown>> {
  if (!data.redirectUrl) throw new IdpValidationError('value at path /redirectUrl: must be string, undefined given (required to exchange the code)')
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: data.redirectUrl })
  if (data.sessionData.codeVerifier) form.set('code_verifier', data.sessionData.codeVerifier)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  const methods = doc.token_endpoint_auth_methods_supported ?? ['client_secret_basic']
  if (!methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
    form.set('client_id', config.clientId)
    form.set('client_secret', config.clientSecret)
  } else {
    // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
    const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
    headers.authorization = `Basic ${Buffer.from(`${encode(config.clientId)}:${encode(config.clientSecret)}`).toString('base64')}`
  }
  const { status, body } = await fetchJson(doc.token_endpoint, { method: 'POST', headers, body: form.toString() }, timeoutOf(config), 'Token endpoint')
  const tokens = body as Record<string, unknown>
  if (status !== 200 || typeof tokens !== 'object' || tokens === null) {
    const error = typeof tokens?.error === 'string' ? tokens.error : `HTTP ${status}`
    const description = typeof tokens?.error_description === 'string' ? ` (${tokens.error_description})` : ''
    throw new IdpResponseError(`${error}${description}`)
  }
  return tokens
}

async function verifyIdToken(config: OidcConfiguration, doc: Discovery, idToken: string, nonce: string | undefined): Promise<JWTPayload> {
  const algorithm = config.idTokenSignedResponseAlg ?? 'RS256'
  const key = algorithm.startsWith('HS') ? new TextEncoder().encode(config.clientSecret) : keySet(doc.jwks_uri, timeoutOf(config))
  let payload: JWTPayload
  try {
    ({ payload } = await jwtVerify(idToken, key as Parameters<typeof jwtVerify>[1], {
      issuer: doc.issuer,
      audience: config.clientId,
      algorithms: [algorithm],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    }))
  } catch (error) {
    if (error instanceof TypeError || error instanceof joseErrors.JWKSTimeout || (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) {
      throw new IdpResponseError(`JWKS at ${doc.jwks_uri} could not be read: ${error.message}`)
    }
    throw new IdpValidationError(`ID token rejected: ${(error as Error).message}`)
  }
  // openid-client's authorized-party rules: several audiences need azp, and azp must be trusted.
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp === undefined) {
    throw new IdpValidationError('ID token rejected: missing required JWT property azp')
  }
  if (payload.azp !== undefined && payload.azp !== config.clientId && !(config.additionalAuthorizedParties ?? []).includes(String(payload.azp))) {
    throw new IdpValidationError(`ID token rejected: azp mismatch, got: ${String(payload.azp)}`)
  }
  if (payload.nonce !== nonce) throw new IdpValidationError(`nonce mismatch, expected ${nonce}, got: ${String(payload.nonce)}`)
  return payload
}

async function fetchUserInfo(config: OidcConfiguration, doc: Discovery, accessToken: unknown, sub: string): Promise<Record<string, unknown>> {
  if (!doc.userinfo_endpoint) throw new IdpValidationError('the provider has no userinfo_endpoint')
  if (typeof accessToken !== 'string') throw new IdpValidationError('access_token not present in the token response')
  const { status, body } = await fetchJson(doc.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } }, timeoutOf(config), 'Userinfo endpoint')
  const info = body as Record<string, unknown>
  if (status !== 200 || typeof info !== 'object' || info === null) throw new IdpResponseError(`Userinfo endpoint answered ${status}`)
  if (info.sub !== sub) throw new IdpValidationError('userinfo sub mismatch')
  return info
}

/**
 * Checks the callback, exchanges the code, verifies the ID token and returns Contember's
 * claim object: every ID-token claim except at_hash/c_hash/nonce, plus externalIdentifier
 * (sub), userinfo when configured, and the raw token response when returnOIDCResult is set.
 */
export async function processOidcResponse(config: OidcConfiguration, data: unknown, discovery?: Discovery): Promise<IdpSignIn> {
  const response = readResponseData(data)
  const doc = discovery ?? await discover(config)
  checkCallback(doc, response)
  // The nonce binds the ID token to the session that started the flow: it is always required.
  if (!response.sessionData.nonce) throw new IdpValidationError('value at path /sessionData/nonce: must be string, undefined given')
  const responseType = config.responseType ?? 'code'
  const usesCode = responseType.split(' ').includes('code')
  if (usesCode && !response.params.code) throw new IdpValidationError('code missing from the response')
  const tokens = usesCode
    ? await exchangeCode(config, doc, response.params.code, response)
    : { ...response.params }
  if (typeof tokens.id_token !== 'string') throw new IdpValidationError('id_token not present in the response')
  const payload = await verifyIdToken(config, doc, tokens.id_token, response.sessionData.nonce)
  const { at_hash: _at, c_hash: _c, nonce: _nonce, ...claims } = payload
  const sub = String(payload.sub)
  const userInfo = config.fetchUserInfo ? await fetchUserInfo(config, doc, tokens.access_token, sub) : {}
  return {
    claims: {
      externalIdentifier: sub,
      ...(config.returnOIDCResult ? tokens : {}),
      ...claims,
      ...userInfo,
    },
    logoutIdToken: typeof doc.end_session_endpoint === 'string' ? tokens.id_token : undefined,
  }
}
