/**
 * The password policy: a configurable minimum length (Contember's message shape, "Password is too
 * weak. Minimum length is N") and a maximum in bytes, so nobody can make us hash megabytes.
 */
import type { Config } from '../../config.js'

/** Null when acceptable, else the developer message for the TOO_WEAK / PASSWORD_TOO_WEAK error. */
export function passwordWeakness(config: Config, password: string): string | null {
  if ([...password].length < config.passwords.minLength) return `Password is too weak. Minimum length is ${config.passwords.minLength}`
  if (Buffer.byteLength(password) > config.passwords.maxBytes) return `Password is too long. Maximum length is ${config.passwords.maxBytes} bytes`
  return null
}

/** Passwords longer than the maximum are never hashed: they cannot match a stored password. */
export function tooLongToVerify(config: Config, password: string): boolean {
  return Buffer.byteLength(password) > config.passwords.maxBytes
}
