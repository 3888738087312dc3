/** Environment for service processes of the suite, and small typed clients for both surfaces. */
import { randomBytes } from 'node:crypto'
import { rawRequest, type HttpResponse } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_EMAIL, ROOT_PASSWORD, ROOT_TOKEN, TEST_ENCRYPTION_KEY } from '../helpers/server.js'
import { API_KEY, hmacHex, KEY_SECRET, PREFIX, REQUEST_SECRET, strongHeader, nowSeconds } from '../rest/client.js'

export { API_KEY, KEY_SECRET, LOGIN_TOKEN, PREFIX, REQUEST_SECRET, ROOT_EMAIL, ROOT_PASSWORD, ROOT_TOKEN, TEST_ENCRYPTION_KEY }

/** Variables of a service process: known secrets, cheap but real argon2, signed REST. */
export function serviceVars(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    CONTEMBER_ROOT_TOKEN: ROOT_TOKEN,
    CONTEMBER_LOGIN_TOKEN: LOGIN_TOKEN,
    CONTEMBER_ROOT_EMAIL: ROOT_EMAIL,
    CONTEMBER_ROOT_PASSWORD: ROOT_PASSWORD,
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    TENANTS_API_KEY: API_KEY,
    TENANTS_API_REQUEST_SECRET: REQUEST_SECRET,
    TENANTS_API_KEY_SECRET: KEY_SECRET,
    MAIL_POLL_INTERVAL_SECONDS: '3600',
    ...overrides,
  }
}

export const shortId = (prefix = 't') => `${prefix}${randomBytes(5).toString('hex')}`

/** A signed REST call (legacy signature unless `strong`); never throws on HTTP status. */
export async function rest(baseUrl: string, method: string, path: string, body?: unknown, options: { strong?: boolean, headers?: Record<string, string> } = {}): Promise<HttpResponse> {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
  const target = `${PREFIX}${path}`
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': API_KEY }
  headers['x-signature'] = options.strong ? strongHeader(REQUEST_SECRET, nowSeconds(), method, target, text) : hmacHex(REQUEST_SECRET, text)
  if (text !== '') headers['content-length'] = String(Buffer.byteLength(text))
  return rawRequest(baseUrl + target, { method, headers: { ...headers, ...options.headers }, body: text === '' ? undefined : text })
}

export async function graphql(baseUrl: string, token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<HttpResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  return rawRequest(`${baseUrl}/tenant`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })
}

/** Any response text that looks like a leaked stack trace or internal detail. */
export function leaksInternals(text: string): boolean {
  return /\n\s+at .+\(.+:\d+:\d+\)|node:internal|\/src\/[\w/-]+\.ts|ECONNREFUSED|postgres(ql)?:\/\//i.test(text)
}
