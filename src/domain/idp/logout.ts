/**
 * OpenID Connect RP-initiated logout (2.2's signOut.logoutUrl). A session signed in through an
 * OIDC provider whose discovery document has an end_session_endpoint keeps the sign-in's ID
 * token, encrypted, in idp_session (nothing is kept for other providers). signOut turns it into
 * the URL the client sends the browser to: end_session_endpoint with id_token_hint, client_id and
 * the provider's configured postLogoutRedirectUri. Plain sessions, providers without the
 * endpoint, and a provider that cannot be reached or read give no URL: the local sign-out happens
 * regardless.
 */
import { eq, inArray } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { apiKey, identityProvider, idpSession } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import type { OidcConfiguration } from './configuration.js'
import { discover } from './oidc.js'

export async function rememberIdpSession(ctx: DomainContext, tx: DbOrTx, apiKeyId: string, identityProviderId: string, idToken: string): Promise<void> {
  await tx.insert(idpSession).values({
    apiKeyId, identityProviderId, idTokenEncrypted: ctx.encryption.encrypt(idToken), createdAt: ctx.clock(),
  })
}

export interface IdpLogout {
  identityProviderId: string
  slug: string
  logoutUrl: string
}

function httpUrl(value: unknown): URL | null {
  if (typeof value !== 'string') return null
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null
  } catch {
    return null
  }
}

/** The RP-initiated logout of the session, or null when there is none to offer. Reads the network (discovery, cached). */
export async function idpLogoutFor(ctx: DomainContext, apiKeyId: string): Promise<IdpLogout | null> {
  const [row] = await ctx.db.select({
    idTokenEncrypted: idpSession.idTokenEncrypted, providerId: identityProvider.id, slug: identityProvider.slug,
    type: identityProvider.type, configuration: identityProvider.configuration,
  }).from(idpSession)
    .innerJoin(identityProvider, eq(identityProvider.id, idpSession.identityProviderId))
    .where(eq(idpSession.apiKeyId, apiKeyId))
    .limit(1)
  if (!row || row.type !== 'oidc') return null
  // Discovery needs only the public part (url, timeout); the client secret stays sealed.
  const config = row.configuration as unknown as OidcConfiguration
  let endpoint: URL | null
  try {
    endpoint = httpUrl((await discover(config)).end_session_endpoint)
  } catch {
    return null
  }
  if (!endpoint) return null
  endpoint.searchParams.set('id_token_hint', ctx.encryption.decrypt(row.idTokenEncrypted))
  if (typeof config.clientId === 'string') endpoint.searchParams.set('client_id', config.clientId)
  // Sent as configured: providers compare it with the registered URI character by character.
  if (httpUrl(config.postLogoutRedirectUri)) endpoint.searchParams.set('post_logout_redirect_uri', config.postLogoutRedirectUri!)
  return { identityProviderId: row.providerId, slug: row.slug, logoutUrl: endpoint.toString() }
}

/** Drops the kept ID tokens of sessions that were just signed out: one key, or every key of the identity. */
export async function forgetIdpSessions(tx: DbOrTx, ended: { apiKeyId: string } | { identityId: string }): Promise<void> {
  if ('apiKeyId' in ended) {
    await tx.delete(idpSession).where(eq(idpSession.apiKeyId, ended.apiKeyId))
    return
  }
  const keys = tx.select({ id: apiKey.id }).from(apiKey).where(eq(apiKey.identityId, ended.identityId))
  await tx.delete(idpSession).where(inArray(idpSession.apiKeyId, keys))
}
