/**
 * Whether an error means "the database cannot be reached right now" rather than "this request
 * is wrong": the surfaces answer those with 503 and Retry-After (a retry will succeed once the
 * database is back) instead of a 500. pg reports them as socket errors, its own connection
 * messages, or PostgreSQL's SQLSTATE classes 08 (connection exception) and 57P0x (shutdown).
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
const MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|database closed|PGlite is closed/i

/** What both surfaces send as Retry-After while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, message, cause } = current as { code?: unknown, message?: unknown, cause?: unknown }
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code))) return true
    if (typeof message === 'string' && MESSAGES.test(message)) return true
    if ((current as { errors?: unknown[] }).errors?.some((inner) => isDatabaseUnavailable(inner))) return true
    current = cause
  }
  return false
}
