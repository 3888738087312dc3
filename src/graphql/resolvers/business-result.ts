/**
 * Contember's payload shape for business outcomes: `ok`, `error {code developerMessage}` and,
 * where the SDL still has it, the deprecated `errors` list ([] on success, [error] on failure).
 * `endUserMessage` is always null, as Contember's.
 */
import { DomainError } from '../../domain/errors.js'
import { UserInputError } from '../errors.js'

type Outcome = { ok: true } | { ok: false, code: string, message: string, details?: Record<string, unknown> }

/** Failure details that 2.1/2.2 error types expose as fields (where the SDL has them). */
const ERROR_FIELDS = ['retryAfter', 'weakPasswordReasons', 'mfaEnrollment'] as const

export interface Payload {
  ok: boolean
  error: { code: string, developerMessage: string, endUserMessage: null } | null
  errors: { code: string, developerMessage: string, endUserMessage: null }[]
  result: unknown
}

/**
 * The payload for an outcome. `errors` is always filled (types without it in the SDL simply never
 * select it); `result` is the given value on success and null on failure.
 */
export function payload(outcome: Outcome, result?: unknown): Payload {
  if (outcome.ok) return { ok: true, error: null, errors: [], result }
  const error = { code: outcome.code, developerMessage: outcome.message, endUserMessage: null }
  for (const field of ERROR_FIELDS) {
    if (outcome.details?.[field] !== undefined) Object.assign(error, { [field]: outcome.details[field] })
  }
  return { ok: false, error, errors: [error], result: null }
}

/** Domain errors that reached a resolver are the caller's mistake: a UserInputError naming the field. */
export async function userInputOnDomainError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (error) {
    if (error instanceof DomainError) throw new UserInputError(error.message)
    throw error
  }
}
