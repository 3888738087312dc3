/**
 * Contember's GraphQL error classes and the one place that turns execution errors into its
 * wire shape: ForbiddenError / UserInputError keep message, locations, path and extensions.code;
 * GraphQL's own errors (syntax, validation, variables) keep message and locations; anything
 * else is masked as "Internal server error" and logged.
 */
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql'
import type { FastifyBaseLogger } from 'fastify'
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../domain/errors.js'

/** What a client sees while the database cannot be reached: retry shortly (503 when nothing else answered). */
export const DATABASE_UNAVAILABLE: GraphQLFormattedError = {
  message: 'The database is unavailable; retry shortly',
  extensions: { code: 'DATABASE_UNAVAILABLE' },
}
export const RETRY_AFTER = String(DATABASE_RETRY_AFTER_SECONDS)

export class ForbiddenError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'ForbiddenError' } })
  }
}

export class UserInputError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'UserInputError' } })
  }
}

/** Throws ForbiddenError unless allowed: Contember's requireAccess. */
export function requireAccess(allowed: boolean, message: string): void {
  if (!allowed) throw new ForbiddenError(message)
}

interface Formatted {
  errors: GraphQLFormattedError[]
  /** True when any error was unexpected (masked), which makes the status 500 instead of 400. */
  unexpected: boolean
  /** True when an error was the database being unreachable (503 with Retry-After when no data). */
  unavailable: boolean
}

export function formatErrors(errors: readonly GraphQLError[], log: FastifyBaseLogger): Formatted {
  let unexpected = false
  let unavailable = false
  const formatted = errors.map((error): GraphQLFormattedError => {
    const original = error.originalError
    if (original instanceof ForbiddenError || original instanceof UserInputError) {
      return { message: original.message, locations: error.locations, path: error.path, extensions: original.extensions }
    }
    if (!original || original instanceof GraphQLError) {
      return error.locations ? { message: error.message, locations: error.locations } : { message: error.message }
    }
    if (isDatabaseUnavailable(original)) {
      unavailable = true
      log.warn({ err: original, path: error.path }, 'GraphQL resolver failed: database unavailable')
      return { ...DATABASE_UNAVAILABLE, path: error.path }
    }
    unexpected = true
    log.error({ err: original, path: error.path }, 'GraphQL resolver failed')
    return { message: 'Internal server error' }
  })
  return { errors: formatted, unexpected, unavailable }
}

/** Contember's status rule: errors with no data take 400 (500 if unexpected, 503 if the database was unreachable); with data, 200. */
export function statusFor(result: ExecutionResult, formatted: Pick<Formatted, 'unexpected' | 'unavailable'>): number {
  if (!result.errors?.length) return 200
  if (result.data) return 200
  return formatted.unexpected ? 500 : formatted.unavailable ? 503 : 400
}
