/**
 * Sign in with Apple, as Contember's apple provider: OpenID Connect against the issuer
 * https://appleid.apple.com (its discovery, its JWKS) through the OIDC relying party in oidc.ts,
 * with Apple's three differences:
 * - the client secret is an ES256 JWT signed with the configured private key (kid = keyId,
 *   iss = teamId, sub = clientId, aud = https://appleid.apple.com, valid 10 minutes), minted for
 *   each token request and sent as client_secret (Apple takes client_secret_post only);
 * - the default scope is "name email" and the default response mode form_post (Apple requires
 *   it when a scope is asked for); its authorization endpoint documents no PKCE, so none is sent
 *   and the nonce and state bind the response;
 * - the user's name is never in the ID token: Apple posts it once, on the first sign-in, as the
 *   `user` JSON field of the callback. It is taken from `data.user` or `data.parameters.user`.
 *   Apple's string booleans (email_verified: "true") become booleans, so that an e-mail Apple
 *   marks unverified is never used to link a person.
 */
import { createPrivateKey } from 'node:crypto'
import { SignJWT } from 'jose'
import type { OidcConfiguration } from './configuration.js'
import { IdpValidationError, initOidcAuth, processOidcResponse, type IdpSignIn, type InitResult } from './oidc.js'

/** The client secret's audience: Apple's own issuer, whichever issuer URL is in use. */
export const APPLE_AUDIENCE = 'https://appleid.apple.com'
const CLIENT_SECRET_LIFETIME_SECONDS = 600

export type AppleConfiguration = Omit<OidcConfiguration, 'url' | 'clientSecret'> & {
  keyId: string
  teamId: string
  privateKey: string
}

async function mintClientSecret(config: AppleConfiguration): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: config.keyId })
    .setIssuer(config.teamId)
    .setSubject(config.clientId)
    .setAudience(APPLE_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + CLIENT_SECRET_LIFETIME_SECONDS)
    .sign(createPrivateKey(config.privateKey))
}

function asOidc(config: AppleConfiguration, issuer: string, clientSecret: string): OidcConfiguration {
  const { keyId: _keyId, teamId: _teamId, privateKey: _privateKey, ...options } = config
  return { ...options, url: issuer, clientSecret, scope: config.scope ?? config.claims ?? 'name email' }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

export function initAppleAuth(config: AppleConfiguration, data: unknown, issuer: string): Promise<InitResult> {
  const withMode = isPlainObject(data) && data.responseMode === undefined ? { ...data, responseMode: 'form_post' } : data
  // The secret is only needed to exchange the code.
  return initOidcAuth(asOidc(config, issuer, ''), withMode, undefined, { pkce: false })
}

interface AppleUser {
  name?: { firstName?: unknown, lastName?: unknown }
}

/** Splits Apple's `user` field off the callback data; it is not a protocol parameter. */
function takeUser(data: unknown): { rest: unknown, user?: AppleUser } {
  if (!isPlainObject(data)) return { rest: data }
  let { user, ...rest } = data
  let path = '/user'
  if (user === undefined && isPlainObject(rest.parameters) && rest.parameters.user !== undefined) {
    const { user: fromParameters, ...parameters } = rest.parameters
    user = fromParameters
    rest = { ...rest, parameters }
    path = '/parameters/user'
  }
  if (user === undefined || user === null) return { rest }
  if (typeof user === 'string') {
    try {
      user = JSON.parse(user)
    } catch {
      throw new IdpValidationError(`value at path ${path}: must be Apple's user JSON`)
    }
  }
  if (!isPlainObject(user)) throw new IdpValidationError(`value at path ${path}: must be object`)
  return { rest, user: user as AppleUser }
}

const fromAppleBoolean = (value: unknown) => (value === 'true' ? true : value === 'false' ? false : value)

export async function processAppleResponse(config: AppleConfiguration, data: unknown, issuer: string): Promise<IdpSignIn> {
  const { rest, user } = takeUser(data)
  const signIn = await processOidcResponse(asOidc(config, issuer, await mintClientSecret(config)), rest)
  const { claims } = signIn
  for (const key of ['email_verified', 'is_private_email'] as const) {
    if (claims[key] !== undefined) claims[key] = fromAppleBoolean(claims[key])
  }
  const first = typeof user?.name?.firstName === 'string' ? user.name.firstName.trim() : ''
  const last = typeof user?.name?.lastName === 'string' ? user.name.lastName.trim() : ''
  if (claims.name === undefined && (first || last)) {
    Object.assign(claims, { name: [first, last].filter(Boolean).join(' ') }, first ? { given_name: first } : {}, last ? { family_name: last } : {})
  }
  return signIn
}
