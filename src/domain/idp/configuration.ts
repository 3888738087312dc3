/**
 * Identity provider types and their configuration, as Contember 2.0.8 accepts them (`oidc`,
 * `facebook`, `apple`). Validation messages follow Contember's typesafe wording ("value at path
 * /url: must be string, 1 given"), with a few extra checks that Contember leaves to the first
 * sign-in (URL shape, timeout range, signature algorithm, Apple key format).
 *
 * The secret (clientSecret, or Apple's privateKey) is split off here: the `configuration` column
 * holds only the public part and the secret is stored encrypted beside it.
 */
import { createPrivateKey } from 'node:crypto'
import { fail, type Result } from '../errors.js'

export type IdpType = 'oidc' | 'facebook' | 'apple'
export const IDP_TYPES: readonly IdpType[] = ['oidc', 'facebook', 'apple']

export const isIdpType = (type: string): type is IdpType => (IDP_TYPES as readonly string[]).includes(type)

type FieldKind = 'string' | 'boolean' | 'number' | 'string[]' | 'responseType' | 'url' | 'alg' | 'timeout' | 'ecKey'

const RESPONSE_TYPES = ['code', 'code id_token', 'code id_token token', 'code token', 'id_token', 'id_token token', 'none']
/** Signature algorithms jose verifies; `none` is never accepted. HS* use the client secret. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512']
export const DEFAULT_TIMEOUT_MS = 5000

const OIDC_OPTIONS: Record<string, FieldKind> = {
  responseType: 'responseType',
  scope: 'string',
  claims: 'string',
  additionalAuthorizedParties: 'string[]',
  idTokenSignedResponseAlg: 'alg',
  fetchUserInfo: 'boolean',
  returnOIDCResult: 'boolean',
  timeout: 'timeout',
  /** Where the provider sends the browser after RP-initiated logout (signOut's logoutUrl). */
  postLogoutRedirectUri: 'url',
}

interface TypeSpec {
  required: Record<string, FieldKind>
  optional: Record<string, FieldKind>
  secretKey: 'clientSecret' | 'privateKey'
}

const SPECS: Record<IdpType, TypeSpec> = {
  oidc: { required: { url: 'url', clientId: 'string', clientSecret: 'string' }, optional: OIDC_OPTIONS, secretKey: 'clientSecret' },
  facebook: { required: { clientId: 'string', clientSecret: 'string' }, optional: { url: 'url', ...OIDC_OPTIONS }, secretKey: 'clientSecret' },
  apple: { required: { keyId: 'string', teamId: 'string', clientId: 'string', privateKey: 'ecKey' }, optional: OIDC_OPTIONS, secretKey: 'privateKey' },
}

export const secretKeyOf = (type: IdpType) => SPECS[type].secretKey

/** The full configuration of an OIDC-style provider after validation (secret included). */
export interface OidcConfiguration {
  url: string
  clientId: string
  clientSecret: string
  responseType?: string
  scope?: string
  claims?: string
  additionalAuthorizedParties?: string[]
  idTokenSignedResponseAlg?: string
  fetchUserInfo?: boolean
  returnOIDCResult?: boolean
  timeout?: number
  postLogoutRedirectUri?: string
}

export interface SplitConfiguration {
  /** What is stored in `configuration` and shown by `identityProviders`. */
  publicConfiguration: Record<string, unknown>
  secret: string
}

const given = (value: unknown) => (value === undefined ? 'undefined' : JSON.stringify(value))

function checkField(kind: FieldKind, value: unknown): string | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? undefined : 'must be string'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be boolean'
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be number'
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string') ? undefined : 'must be array of strings'
    case 'responseType':
      return typeof value === 'string' && RESPONSE_TYPES.includes(value) ? undefined : `must be one of ${RESPONSE_TYPES.join(', ')}`
    case 'url': {
      if (typeof value !== 'string') return 'must be string'
      try {
        const url = new URL(value)
        return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an http(s) URL'
      } catch {
        return 'must be an http(s) URL'
      }
    }
    case 'alg':
      return typeof value === 'string' && ID_TOKEN_ALGORITHMS.includes(value) ? undefined : `must be one of ${ID_TOKEN_ALGORITHMS.join(', ')}`
    case 'timeout':
      return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 60000 ? undefined : 'must be an integer between 100 and 60000'
    case 'ecKey': {
      if (typeof value !== 'string') return 'must be string'
      try {
        const key = createPrivateKey(value)
        return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
          ? undefined
          : 'must be a P-256 (ES256) private key in PEM'
      } catch {
        return 'must be a P-256 (ES256) private key in PEM'
      }
    }
  }
}

/**
 * Validates a configuration for the type and splits the secret off. Keys not listed for the
 * type are kept as Contember keeps them; the secret never leaves in the public part.
 */
export function validateConfiguration(type: string, configuration: unknown): Result<SplitConfiguration, 'UNKNOWN_TYPE' | 'INVALID_CONFIGURATION'> {
  if (!isIdpType(type)) return fail('UNKNOWN_TYPE', `IDP type ${type} not found`)
  if (typeof configuration !== 'object' || configuration === null || Array.isArray(configuration)) {
    return fail('INVALID_CONFIGURATION', `Invalid IDP configuration: value at path /: must be object, ${given(configuration)} given`)
  }
  const spec = SPECS[type]
  const config = configuration as Record<string, unknown>
  for (const [key, kind] of Object.entries(spec.required)) {
    const problem = checkField(kind, config[key])
    // The secret's value is never echoed back.
    const shown = key === spec.secretKey ? (config[key] === undefined ? 'undefined' : typeof config[key]) : given(config[key])
    if (problem) return fail('INVALID_CONFIGURATION', `Invalid IDP configuration: value at path /${key}: ${problem}, ${shown} given`)
  }
  for (const [key, kind] of Object.entries(spec.optional)) {
    if (config[key] === undefined || config[key] === null) continue
    const problem = checkField(kind, config[key])
    if (problem) return fail('INVALID_CONFIGURATION', `Invalid IDP configuration: value at path /${key}: ${problem}, ${given(config[key])} given`)
  }
  const { [spec.secretKey]: secret, ...rest } = config
  // An explicit null means "not set": it is dropped rather than stored.
  const publicConfiguration = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== null))
  return { ok: true, value: { publicConfiguration, secret: secret as string } }
}

/** Public part + decrypted secret: the configuration the protocol code works with. */
export function fullConfiguration(type: IdpType, publicConfiguration: Record<string, unknown>, secret: string | null): Record<string, unknown> {
  return secret === null ? { ...publicConfiguration } : { ...publicConfiguration, [SPECS[type].secretKey]: secret }
}
