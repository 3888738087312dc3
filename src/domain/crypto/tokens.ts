/** Bearer tokens as Contember makes them: 20 random bytes, 40 lowercase hex; stored as SHA-256. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function generateToken(): string {
  return randomBytes(20).toString('hex')
}

export function sha256Hex(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex')
}

export const SHA256_HEX = /^[a-f0-9]{64}$/

/** Equal-length buffers compared in constant time; different lengths are simply unequal. */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = typeof a === 'string' ? Buffer.from(a) : a
  const right = typeof b === 'string' ? Buffer.from(b) : b
  if (left.length !== right.length) {
    // Still spend the comparison so the length mismatch is not cheaper to detect.
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}
