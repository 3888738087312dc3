/**
 * The one catalogue of domain failures. Domain functions return `{ ok: false, code }` values
 * (Contember's error codes) or throw DomainError for failures that are not part of a result
 * type; each surface maps them to its wire shape in exactly one place.
 */
export type Result<T, C extends string = string> =
  | { ok: true, value: T }
  | { ok: false, code: C, message: string, details?: Record<string, unknown> }

export const ok = <T>(value: T): { ok: true, value: T } => ({ ok: true, value })
export const fail = <C extends string>(code: C, message: string, details?: Record<string, unknown>) =>
  ({ ok: false as const, code, message, details })

/** Kinds of failure that are not business results: each surface has one status for each. */
export type DomainErrorKind = 'not_found' | 'conflict' | 'invalid_input' | 'forbidden' | 'unauthorized' | 'limit_exceeded'

export class DomainError extends Error {
  constructor(readonly kind: DomainErrorKind, readonly code: string, message: string, readonly field?: string) {
    super(message)
    this.name = 'DomainError'
  }
}

/** Database-unreachable errors, for the surfaces to answer 503 (classified in db/, which knows the driver). */
export { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../db/unavailable.js'
