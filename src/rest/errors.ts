/**
 * The one place REST failures get their wire shape: Fastify's `{statusCode, code, error,
 * message}` with Chevereto's statuses. Domain errors map by kind; validation errors name the
 * field; anything unexpected is a 500 without details (the log has them).
 */
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DATABASE_RETRY_AFTER_SECONDS, DomainError, isDatabaseUnavailable, type DomainErrorKind } from '../domain/errors.js'

const STATUS_BY_KIND: Record<DomainErrorKind, number> = {
  not_found: 404, conflict: 409, invalid_input: 400, forbidden: 403, unauthorized: 401, limit_exceeded: 409,
}

export class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message)
    this.name = 'HttpError'
  }
}

export function errorBody(statusCode: number, code: string, message: string) {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

interface AjvLikeError { keyword: string, instancePath: string, params: Record<string, unknown>, message?: string }

/** Turns the first schema violation into a sentence that starts with the field's path. */
export function validationMessage(errors: AjvLikeError[], dataVar: string): string {
  const error = errors[0]
  if (!error) return `${dataVar} is invalid`
  const at = `${dataVar}${error.instancePath}`
  if (error.keyword === 'required') return `${at}/${String(error.params.missingProperty)} is required`
  if (error.keyword === 'additionalProperties') return `${at}/${String(error.params.additionalProperty)} is not an allowed property`
  if (error.keyword === 'minProperties') return `${at} must contain at least ${String(error.params.limit)} property`
  return `${at} ${error.message ?? 'is invalid'}`
}

export function restErrorHandler(error: FastifyError | DomainError | HttpError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError) {
    const status = STATUS_BY_KIND[error.kind]
    return reply.code(status).send(errorBody(status, error.code, error.message))
  }
  const fastifyError = error as FastifyError
  if (fastifyError.validation) {
    return reply.code(400).send(errorBody(400, 'FST_ERR_VALIDATION', fastifyError.message))
  }
  const status = fastifyError.statusCode
  if (status && status >= 400 && status < 500) {
    if (status === 413) reply.header('connection', 'close')
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send(errorBody(415, fastifyError.code, `Content-Type must be application/json when a body is sent, got "${request.headers['content-type'] ?? ''}"`))
    }
    return reply.code(status).send(errorBody(status, fastifyError.code ?? 'ERR_BAD_REQUEST', fastifyError.message))
  }
  if (isDatabaseUnavailable(error)) {
    request.log.warn({ err: error }, 'tenants API request failed: database unavailable')
    return reply.code(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS)).send(errorBody(503, 'DATABASE_UNAVAILABLE', 'The database is unavailable; retry shortly'))
  }
  request.log.error({ err: error }, 'tenants API request failed')
  return reply.code(500).send(errorBody(500, 'INTERNAL_ERROR', 'Internal Server Error'))
}
