/**
 * What an effective auth policy does to a new session:
 * - tokenExpiration caps the session's expiration (the sliding window, and so what the
 *   `expiration` argument may ask for);
 * - idleTimeout is fixed on the key; authentication refuses the session once unused that long;
 * - rememberMeAllowed: false accepts no expiration longer than the default (no "remember me")
 *   and stops the session sliding past its first expiry, so it ends at most tokenExpiration (or
 *   the default) after sign-in, however busy.
 * Sessions are minutes long, so a sub-minute tokenExpiration counts as one minute.
 */
import type { Tx } from '../../db/client.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { createSessionKey } from '../sessions/api-keys.js'
import type { EffectivePolicy } from './effective.js'

export interface SessionTerms {
  /** For createSessionKey: minutes, or null for the configured default. */
  expirationMinutes: number | null
  idleTimeoutSeconds: number | null
  fixedLifetime: boolean
}

/** `defaultMinutes`: the lifetime a session gets when its caller asks for none. */
export function sessionTerms(policy: EffectivePolicy, requestedMinutes: number | null | undefined, defaultMinutes: number): SessionTerms {
  let minutes = requestedMinutes && requestedMinutes > 0 ? requestedMinutes : null
  if (policy.rememberMeAllowed === false && minutes !== null && minutes > defaultMinutes) minutes = defaultMinutes
  if (policy.tokenExpirationMs !== null) {
    minutes = Math.min(minutes ?? defaultMinutes, Math.max(1, Math.ceil(policy.tokenExpirationMs / 60_000)))
  }
  return {
    expirationMinutes: minutes,
    idleTimeoutSeconds: policy.idleTimeoutMs === null ? null : Math.max(1, Math.ceil(policy.idleTimeoutMs / 1000)),
    fixedLifetime: policy.rememberMeAllowed === false,
  }
}

const shapesSessions = (policy: EffectivePolicy) =>
  policy.tokenExpirationMs !== null || policy.idleTimeoutMs !== null || policy.rememberMeAllowed === false

export interface SessionOwner {
  personId: string
  identityId: string
}

/**
 * A session key for the person under the effective policy, inside the caller's transaction;
 * when the policy changed its terms, audited as `session_policy_applied`.
 */
export async function createPolicySession(
  ctx: DomainContext, tx: Tx, owner: SessionOwner, requestedMinutes: number | null | undefined, defaultMinutes: number,
  policy: EffectivePolicy, actor: Actor,
): Promise<{ id: string, token: string, expiresAt: Date }> {
  const terms = sessionTerms(policy, requestedMinutes, defaultMinutes)
  const session = await createSessionKey(ctx, tx, owner.identityId, terms.expirationMinutes, actor, terms)
  if (shapesSessions(policy)) {
    await recordAudit(tx, actor, {
      type: 'session_policy_applied', personId: owner.personId,
      eventData: {
        apiKeyId: session.id, policyIds: policy.policyIds, requestedExpiration: requestedMinutes ?? null,
        expiration: terms.expirationMinutes, expiresAt: session.expiresAt.toISOString(),
        idleTimeoutSeconds: terms.idleTimeoutSeconds, fixedLifetime: terms.fixedLifetime,
      },
    })
  }
  return session
}
