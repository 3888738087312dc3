/**
 * RFC 6238 TOTP as Contember configures it (otpauth defaults): HMAC-SHA1, 6 digits, 30 s steps,
 * a window of ±1 step; secrets are 20 random bytes, base32 without padding. Pure functions: the
 * time comes in as a parameter and nothing here touches the database.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { constantTimeEqual } from '../crypto/tokens.js'

export const TOTP_DIGITS = 6
export const TOTP_PERIOD_SECONDS = 30
export const TOTP_WINDOW = 1
const SECRET_BYTES = 20
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export function base32Encode(bytes: Buffer): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31]
  return out
}

/** Lenient decoder (case, padding and spaces ignored); throws on characters outside the alphabet. */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '')
  const out: number[] = []
  let buffer = 0
  let bits = 0
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char)
    if (value < 0) throw new Error('invalid base32 character')
    buffer = ((buffer << 5) | value) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

export function generateTotpSecret(): string {
  return base32Encode(randomBytes(SECRET_BYTES))
}

/** RFC 4226 HOTP with dynamic truncation. */
export function hotp(secret: Buffer, counter: number): string {
  const message = Buffer.alloc(8)
  message.writeBigUInt64BE(BigInt(counter))
  const digest = createHmac('sha1', secret).update(message).digest()
  const offset = digest[digest.length - 1] & 0x0f
  const code = (digest.readUInt32BE(offset) & 0x7fffffff) % 10 ** TOTP_DIGITS
  return code.toString().padStart(TOTP_DIGITS, '0')
}

export function totpStep(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS)
}

/**
 * The time step whose code equals `code` within ±TOTP_WINDOW of now, or null. Every candidate
 * is compared in constant time so the position of a match does not show in the timing.
 */
export function matchTotpStep(secretBase32: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const secret = base32Decode(secretBase32)
  const current = totpStep(now)
  let matched: number | null = null
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    if (constantTimeEqual(hotp(secret, step), code) && matched === null) matched = step
  }
  return matched
}

/**
 * The key URI exactly as otpauth's TOTP.toString() writes it for Contember:
 * otpauth://totp/<issuer>:<account>?issuer=<issuer>&secret=<B32>&algorithm=SHA1&digits=6&period=30
 */
export function otpAuthUri(issuer: string, account: string, secretBase32: string): string {
  const e = encodeURIComponent
  return `otpauth://totp/${e(issuer)}:${e(account)}?issuer=${e(issuer)}&secret=${e(secretBase32)}`
    + `&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`
}

export function secretFromOtpAuthUri(uri: string): string {
  const secret = new URL(uri).searchParams.get('secret')
  if (!secret) throw new Error('otpauth URI without a secret')
  return secret
}
