/**
 * Session lifetimes from `configure(login:)` (2.1): defaultTokenExpiration applies when the
 * caller asks for none, maxTokenExpiration caps what it asks for. Unset, the environment's
 * SESSION_EXPIRATION_MINUTES / SESSION_MAX_EXPIRATION_MINUTES apply, and the environment's
 * maximum stays the ceiling either way (createSessionKey caps at it).
 */
import { intervalMs } from './interval.js'
import type { LoginConfig } from './tenant-config.js'

const minutes = (interval: string | null) => {
  const ms = interval === null ? null : intervalMs(interval)
  return ms === null ? null : Math.max(1, Math.ceil(ms / 60_000))
}

/** The `expiration` (minutes) to pass to createSessionKey for what the caller requested. */
function sessionMinutes(login: LoginConfig, requested: number | null | undefined, envDefaultMinutes: number): number | null {
  const max = minutes(login.maxTokenExpiration)
  const wanted = requested && requested > 0 ? requested : minutes(login.defaultTokenExpiration)
  if (wanted === null) return max !== null && envDefaultMinutes > max ? max : null
  return max === null ? wanted : Math.min(wanted, max)
}

/**
 * What every way of opening a session passes on (signIn, createSessionToken, IdP, passwordless):
 * the `expiration` for the caller's request, and the default a policy's cap compares against.
 */
export function sessionTerms(login: LoginConfig, requested: number | null | undefined, envDefaultMinutes: number): { expiration: number | null, defaultMinutes: number } {
  return {
    expiration: sessionMinutes(login, requested, envDefaultMinutes),
    defaultMinutes: sessionMinutes(login, null, envDefaultMinutes) ?? envDefaultMinutes,
  }
}
