/**
 * Validation of a passwordless request token, in Contember's exact order (§7.5): not found,
 * OTP attempts exhausted, wrong kind of proof, hash mismatch, used, expired. Pure: the row and
 * the time come in, a verdict goes out; the caller counts failed OTP attempts.
 */
import { constantTimeEqual, sha256Hex } from '../crypto/tokens.js'
import { fail, ok, type Result } from '../errors.js'

export const MAX_OTP_ATTEMPTS = 3

export type ValidationType = 'token' | 'otp'
export type TokenErrorCode = 'TOKEN_NOT_FOUND' | 'TOKEN_INVALID' | 'TOKEN_USED' | 'TOKEN_EXPIRED'

export interface PasswordlessTokenRow {
  id: string
  personId: string
  tokenHash: string
  otpHash: string | null
  otpAttempts: number
  usedAt: Date | null
  expiresAt: Date
}

export function validatePasswordlessToken(
  row: PasswordlessTokenRow | undefined, validationType: ValidationType, secret: string, now: Date,
): Result<PasswordlessTokenRow, TokenErrorCode> {
  if (!row) return fail('TOKEN_NOT_FOUND', 'Token not found')
  if (validationType === 'otp' && row.otpAttempts >= MAX_OTP_ATTEMPTS) return fail('TOKEN_EXPIRED', 'OTP attempts exceeded')
  if (validationType === 'token') {
    if (row.otpHash !== null) return fail('TOKEN_INVALID', 'The token was exchanged for OTP')
    if (!constantTimeEqual(row.tokenHash, sha256Hex(secret))) return fail('TOKEN_INVALID', 'Token invalid')
  } else {
    if (row.otpHash === null) return fail('TOKEN_INVALID', 'OTP not set')
    if (!constantTimeEqual(row.otpHash, sha256Hex(secret))) return fail('TOKEN_INVALID', 'OTP invalid')
  }
  if (row.usedAt) return fail('TOKEN_USED', `Token used at ${row.usedAt.toISOString()}`)
  if (row.expiresAt.getTime() < now.getTime()) return fail('TOKEN_EXPIRED', `Token expired at ${row.expiresAt.toISOString()}`)
  return ok(row)
}
