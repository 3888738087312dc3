/**
 * Structured logs with every secret redacted. Request headers are logged (user agent and
 * forwarding headers help operators) but never the credentials among them; any logged object's
 * password, token, secret, signature and env fields are censored at any of the first depths.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import type { LogLevel } from '../config.js'

const SECRET_KEYS = [
  'password', 'newPassword', 'currentPassword', 'passwordHash', 'token', 'otpToken', 'otpHash', 'backupCode',
  'secret', 'clientSecret', 'privateKey', 'apiKey', 'api_key', 'key', 'signature', 'env', 'value', 'authorization',
  'rootToken', 'loginToken', 'tokenHash', 'resetTokenHash', 'captchaToken', 'sessionData', 'encryptionKey',
]

const HEADER_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["x-signature"]', 'req.headers.cookie',
  'req.headers["x-contember-client-ip"]', 'res.headers["set-cookie"]',
]

function redactPaths(): string[] {
  const paths = [...HEADER_PATHS]
  for (const key of SECRET_KEYS) {
    const segment = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `["${key}"]`
    paths.push(segment, `*.${segment}`, `*.*.${segment}`, `*.*.*.${segment}`)
  }
  return paths
}

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths(), censor: '[redacted]' },
    serializers: {
      req(request: { method: string, url: string, ip?: string, headers: Record<string, unknown>, id?: string }) {
        // The query string may carry a GraphQL document with literals: log the path only.
        return { method: request.method, url: request.url.split('?')[0], remoteAddress: request.ip, headers: request.headers }
      },
    },
  }
}

export function createLogger(level: LogLevel, stream?: DestinationStream): Logger {
  return stream ? pino(loggerOptions(level), stream) : pino(loggerOptions(level))
}
