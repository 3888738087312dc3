/**
 * One entry point per provider type for the two protocol steps. `oidc` is the full
 * authorization-code flow; `facebook` and `apple` are accepted by addIDP (their configuration
 * is validated) but their sign-in is not implemented: both answer IDP_VALIDATION_FAILED with a
 * message that says so, never an internal error.
 */
import type { OidcConfiguration } from './configuration.js'
import type { LoadedProvider } from './manage.js'
import { IdpValidationError, initOidcAuth, processOidcResponse, type IdpClaims, type InitResult } from './oidc.js'

function unsupported(provider: LoadedProvider): never {
  throw new IdpValidationError(`Sign-in through ${provider.type} providers is not supported by this server; use an oidc provider`)
}

export async function initAuth(provider: LoadedProvider, data: unknown): Promise<InitResult> {
  if (provider.type !== 'oidc') unsupported(provider)
  return initOidcAuth(provider.configuration as unknown as OidcConfiguration, data)
}

export async function processResponse(provider: LoadedProvider, data: unknown): Promise<IdpClaims> {
  if (provider.type !== 'oidc') unsupported(provider)
  return processOidcResponse(provider.configuration as unknown as OidcConfiguration, data)
}
