/**
 * The password policy: the environment's minimum length as a floor (Contember's message shape,
 * "Password is too weak. Minimum length is N"), a maximum in bytes so nobody can make us hash
 * megabytes, and the tenant's 2.1 rules (`configure(password:)`): a longer minimum, required
 * counts of upper/lower/digit/special characters, a pattern, and a blacklist of common
 * passwords compared after lowercasing and undoing leetspeak. Failures carry
 * WeakPasswordReason codes. With `password.checkHibp` a password that passes those rules is
 * also looked up in Have I Been Pwned (COMPROMISED; fails open, see pwned-passwords.ts).
 */
import type { Config } from '../../config.js'
import type { DbOrTx } from '../../db/client.js'
import { readTenantConfig, type PasswordConfig } from '../config/tenant-config.js'
import { COMMON_PASSWORDS } from './common-passwords.js'
import { isPwnedPassword } from './pwned-passwords.js'

export type WeakPasswordReason = 'TOO_SHORT' | 'MISSING_UPPERCASE' | 'MISSING_LOWERCASE' | 'MISSING_DIGIT' | 'MISSING_SPECIAL' | 'INVALID_PATTERN' | 'BLACKLISTED' | 'COMPROMISED'

export interface Weakness {
  /** The developer message of the TOO_WEAK / PASSWORD_TOO_WEAK error. */
  message: string
  /** Empty for a password over the byte limit (no reason code fits). */
  reasons: WeakPasswordReason[]
}

const LEET: Record<string, string> = { '@': 'a', $: 's', 0: 'o', 1: 'l', 3: 'e', 7: 't', '!': 'i' }

export function isBlacklisted(password: string): boolean {
  const plain = [...password.toLowerCase()].map((char) => LEET[char] ?? char).join('')
  return COMMON_PASSWORDS.has(password.toLowerCase()) || COMMON_PASSWORDS.has(plain)
}

const count = (password: string, pattern: RegExp) => password.match(pattern)?.length ?? 0

/** Null when the password is acceptable under the environment and the tenant's rules. */
export function passwordWeakness(config: Config, policy: PasswordConfig, password: string): Weakness | null {
  if (Buffer.byteLength(password) > config.passwords.maxBytes) {
    return { message: `Password is too long. Maximum length is ${config.passwords.maxBytes} bytes`, reasons: [] }
  }
  const minLength = Math.max(config.passwords.minLength, policy.minLength ?? 0)
  const reasons: WeakPasswordReason[] = []
  if ([...password].length < minLength) reasons.push('TOO_SHORT')
  if (count(password, /\p{Lu}/gu) < policy.requireUppercase) reasons.push('MISSING_UPPERCASE')
  if (count(password, /\p{Ll}/gu) < policy.requireLowercase) reasons.push('MISSING_LOWERCASE')
  if (count(password, /\p{Nd}/gu) < policy.requireDigit) reasons.push('MISSING_DIGIT')
  if (count(password, /[^\p{L}\p{N}]/gu) < policy.requireSpecial) reasons.push('MISSING_SPECIAL')
  if (policy.pattern && !new RegExp(policy.pattern, 'u').test(password)) reasons.push('INVALID_PATTERN')
  if (policy.checkBlacklist && isBlacklisted(password)) reasons.push('BLACKLISTED')
  if (reasons.length === 0) return null
  const message = reasons[0] === 'TOO_SHORT'
    ? `Password is too weak. Minimum length is ${minLength}`
    : `Password is too weak: ${reasons.join(', ')}`
  return { message, reasons }
}

/** The failure details of a weak password: the WeakPasswordReason codes (2.1), when there are any. */
export function weaknessDetails(weakness: Weakness): Record<string, unknown> | undefined {
  return weakness.reasons.length > 0 ? { weakPasswordReasons: weakness.reasons } : undefined
}

/**
 * The same check with the tenant's stored policy, then (only for a password that passes the
 * local rules, so no lookup is spent on one refused anyway) the breach list when configured.
 */
export async function checkPassword(ctx: { config: Config }, db: DbOrTx, password: string): Promise<Weakness | null> {
  const policy = (await readTenantConfig(db)).password
  const weakness = passwordWeakness(ctx.config, policy, password)
  if (weakness || !policy.checkHibp) return weakness
  if (!await isPwnedPassword(ctx.config.passwords.hibpApiUrl, password)) return null
  return { message: 'Password is too weak: it appears in a known data breach', reasons: ['COMPROMISED'] }
}

/** Passwords longer than the maximum are never hashed: they cannot match a stored password. */
export function tooLongToVerify(config: Config, password: string): boolean {
  return Buffer.byteLength(password) > config.passwords.maxBytes
}
