/**
 * Structured logs with no secret in them, at a cost that suits the hot path. One line per request
 * (written by app.ts on response), with an allow-list of request headers: credentials
 * (Authorization, X-API-Key, X-Signature, cookies) are never copied into a log object at all.
 * Objects our own code logs get their secret-named top-level fields censored; code never logs
 * request bodies or nested inputs (wildcard redaction paths cost ~10x more per line, measured).
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import type { LogLevel } from '../config.js'

const SECRET_KEYS = [
  'password', 'newPassword', 'currentPassword', 'passwordHash', 'token', 'otpToken', 'otpHash', 'backupCode',
  'secret', 'clientSecret', 'privateKey', 'apiKey', 'api_key', 'key', 'signature', 'env', 'value', 'authorization',
  'rootToken', 'loginToken', 'tokenHash', 'resetTokenHash', 'captchaToken', 'sessionData', 'encryptionKey', 'variables',
]

/** Request headers worth a log line; everything else (credentials included) is left out. */
const LOGGED_HEADERS = ['host', 'user-agent', 'content-type', 'content-length', 'origin', 'x-forwarded-for', 'x-request-id']

export interface RequestLike { method: string, url: string, ip?: string, headers: Record<string, unknown> }

export function requestLogFields(request: RequestLike): Record<string, unknown> {
  const headers: Record<string, unknown> = {}
  for (const name of LOGGED_HEADERS) {
    const value = request.headers[name]
    if (value !== undefined) headers[name] = value
  }
  // The query string may carry a GraphQL document with literals: log the path only.
  return { method: request.method, url: request.url.split('?')[0], remoteAddress: request.ip, headers }
}

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: SECRET_KEYS, censor: '[redacted]' },
    serializers: { req: requestLogFields },
  }
}

export function createLogger(level: LogLevel, stream?: DestinationStream): Logger {
  return stream ? pino(loggerOptions(level), stream) : pino(loggerOptions(level))
}
