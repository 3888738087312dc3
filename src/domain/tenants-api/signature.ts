/**
 * X-Signature as pure functions (no clock, no storage): Chevereto's legacy form, hex
 * HMAC-SHA256 of the raw body, and our strong form `t=<unix>,v1=<hex>[,v1=<hex>…]` whose MAC
 * covers `t \n METHOD \n path?query \n body`. Replay bookkeeping lives in replay.ts.
 */
import { createHmac } from 'node:crypto'
import { constantTimeEqual, sha256Hex } from '../crypto/tokens.js'

export type SignatureMode = 'legacy' | 'strict'

const HEX_MAC = /^[a-f0-9]{64}$/

export function legacySignature(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

/** The exact bytes the strong form signs; an empty body still leaves the final newline. */
export function strongPayload(t: string, method: string, pathWithQuery: string, body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`${t}\n${method.toUpperCase()}\n${pathWithQuery}\n`), Buffer.isBuffer(body) ? body : Buffer.from(body)])
}

export function strongSignature(secret: string, t: string | number, method: string, pathWithQuery: string, body: Buffer | string): string {
  const mac = createHmac('sha256', secret).update(strongPayload(String(t), method, pathWithQuery, body)).digest('hex')
  return `t=${t},v1=${mac}`
}

export interface StrongHeader { t: string, macs: string[] }

/** Parses `t=…,v1=…[,v1=…]`; undefined when the header is not in the strong form at all. */
export function parseStrongHeader(header: string): StrongHeader | 'malformed' | undefined {
  if (!header.trimStart().startsWith('t=')) return undefined
  let t: string | undefined
  const macs: string[] = []
  for (const part of header.split(',')) {
    const [key, value, extra] = part.trim().split('=')
    if (extra !== undefined || value === undefined) return 'malformed'
    if (key === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return 'malformed'
      t = value
    } else if (key === 'v1') {
      if (!HEX_MAC.test(value)) return 'malformed'
      macs.push(value)
    }
    // Unknown schemes (v2=…) are ignored so that clients can send newer forms alongside.
  }
  if (t === undefined || macs.length === 0 || macs.length > 8) return 'malformed'
  return { t, macs }
}

export interface VerifyInput {
  header: string | undefined
  secrets: string[]
  mode: SignatureMode
  method: string
  pathWithQuery: string
  body: Buffer
  nowSeconds: number
  toleranceSeconds: number
}

export type VerifyResult =
  | { ok: true, form: 'legacy' }
  /** replayKey identifies the signed request independently of which secret or v1 entry matched. */
  | { ok: true, form: 'strong', replayKey: string, expiresAtSeconds: number }
  | { ok: false, reason: 'missing' | 'malformed' | 'mismatch' | 'expired' | 'strong_required' }

export function verifySignature(input: VerifyInput): VerifyResult {
  const header = input.header?.trim()
  if (!header) return { ok: false, reason: 'missing' }
  const strong = parseStrongHeader(header)
  if (strong === 'malformed') return { ok: false, reason: 'malformed' }
  if (strong === undefined) {
    if (input.mode === 'strict') return { ok: false, reason: 'strong_required' }
    if (!HEX_MAC.test(header)) return { ok: false, reason: 'mismatch' }
    // Every secret is tried (no early exit), so the time spent does not tell which one matched.
    let matched = false
    for (const secret of input.secrets) matched = constantTimeEqual(legacySignature(secret, input.body), header) || matched
    return matched ? { ok: true, form: 'legacy' } : { ok: false, reason: 'mismatch' }
  }
  const payload = strongPayload(strong.t, input.method, input.pathWithQuery, input.body)
  let matched = false
  for (const secret of input.secrets) {
    const expected = createHmac('sha256', secret).update(payload).digest('hex')
    for (const mac of strong.macs) matched = constantTimeEqual(expected, mac) || matched
  }
  if (!matched) return { ok: false, reason: 'mismatch' }
  const t = Number(strong.t)
  if (Math.abs(input.nowSeconds - t) > input.toleranceSeconds) return { ok: false, reason: 'expired' }
  // Keyed with the primary secret so the stored value reveals nothing about the body.
  const replayKey = sha256Hex(createHmac('sha256', input.secrets[0]).update(payload).digest())
  return { ok: true, form: 'strong', replayKey, expiresAtSeconds: t + input.toleranceSeconds }
}
