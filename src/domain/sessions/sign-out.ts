/**
 * signOut: ends the caller's session, or with `all` every key of its identity (permanent keys
 * too, as Contember). Only persons signed in with a session key can sign out; a permanent key
 * is not something a browser logs out of. A session signed in through an OIDC provider with
 * RP-initiated logout also gets the provider's logout URL (2.2's logoutUrl, idp/logout.ts),
 * audited as `idp_logout_initiated`; it is resolved before the transaction, since it may need
 * the provider's discovery document.
 */
import type { Actor, DomainContext } from '../context.js'
import { recordAudit } from '../audit/record.js'
import { fail } from '../errors.js'
import type { Failure } from '../identity/persons.js'
import { forgetIdpSessions, idpLogoutFor } from '../idp/logout.js'
import type { Authenticated } from '../tokens/authenticate.js'
import { disableIdentityKeys, disableKey } from './api-keys.js'

export type SignOutErrorCode = 'NOT_A_PERSON' | 'NOT_POSSIBLE_SIGN_OUT_WITH_PERMANENT_API_KEY'

export async function signOut(
  ctx: DomainContext, actor: Actor, caller: Authenticated, all: boolean, authorize: () => void,
): Promise<{ ok: true, logoutUrl: string | null } | Failure<SignOutErrorCode>> {
  if (!caller.personId) return fail('NOT_A_PERSON', 'Only a person can sign out')
  if (caller.apiKeyType === 'permanent') {
    return fail('NOT_POSSIBLE_SIGN_OUT_WITH_PERMANENT_API_KEY', 'Only session API keys can be used for person sign out.')
  }
  authorize()
  const logout = await idpLogoutFor(ctx, caller.apiKeyId)
  return ctx.db.transaction(async (tx) => {
    const now = ctx.clock()
    const disabledKeys = all ? await disableIdentityKeys(tx, caller.identityId, now) : Number(await disableKey(tx, caller.apiKeyId, now))
    await forgetIdpSessions(tx, all ? { identityId: caller.identityId } : { apiKeyId: caller.apiKeyId })
    await recordAudit(tx, actor, { type: 'sign_out', personId: caller.personId, eventData: { all, disabledKeys } })
    if (logout) {
      await recordAudit(tx, actor, {
        type: 'idp_logout_initiated', personId: caller.personId, identityProviderId: logout.identityProviderId,
        eventData: { identityProvider: logout.slug, sessionId: caller.apiKeyId },
      })
    }
    return { ok: true as const, logoutUrl: logout?.logoutUrl ?? null }
  })
}
