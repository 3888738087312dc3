/**
 * One entry point per provider type for the two protocol steps: `oidc` (oidc.ts), `facebook`
 * (facebook.ts: OAuth 2 code flow on Facebook's fixed endpoints, or the JS SDK's signed
 * request) and `apple` (apple.ts: OIDC against Apple with a JWT client secret). The endpoints
 * that are fixed in production come from the configuration, where tests may override them.
 */
import type { Config } from '../../config.js'
import { initAppleAuth, processAppleResponse, type AppleConfiguration } from './apple.js'
import type { OidcConfiguration } from './configuration.js'
import { initFacebookAuth, processFacebookResponse, type FacebookConfiguration } from './facebook.js'
import type { LoadedProvider } from './manage.js'
import { initOidcAuth, processOidcResponse, type IdpSignIn, type InitResult } from './oidc.js'

export type IdpEndpoints = Config['idp']

export async function initAuth(provider: LoadedProvider, data: unknown, endpoints: IdpEndpoints): Promise<InitResult> {
  switch (provider.type) {
    case 'oidc': return initOidcAuth(provider.configuration as unknown as OidcConfiguration, data)
    case 'facebook': return initFacebookAuth(provider.configuration as unknown as FacebookConfiguration, data, endpoints)
    case 'apple': return initAppleAuth(provider.configuration as unknown as AppleConfiguration, data, endpoints.appleIssuer)
  }
}

export async function processResponse(provider: LoadedProvider, data: unknown, endpoints: IdpEndpoints): Promise<IdpSignIn> {
  switch (provider.type) {
    case 'oidc': return processOidcResponse(provider.configuration as unknown as OidcConfiguration, data)
    case 'facebook': return { claims: await processFacebookResponse(provider.configuration as unknown as FacebookConfiguration, data, endpoints) }
    case 'apple': return processAppleResponse(provider.configuration as unknown as AppleConfiguration, data, endpoints.appleIssuer)
  }
}
