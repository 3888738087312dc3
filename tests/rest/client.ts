/**
 * A signing client for the tenants API, as a provisioning script would be: X-API-Key plus an
 * X-Signature in the legacy or strong form computed here from the exact bytes sent.
 */
import { createHmac } from 'node:crypto'
import { rawRequest, type HttpResponse } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

export const API_KEY = 'k'.repeat(20) + '0123456789abcdef0123456789abcdef'
export const REQUEST_SECRET = 'my_request_secret'
export const KEY_SECRET = 'key-secret-for-tests-0123456789'
export const PREFIX = '/_/api/4'

export function restEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { TENANTS_API_KEY: API_KEY, TENANTS_API_REQUEST_SECRET: REQUEST_SECRET, TENANTS_API_KEY_SECRET: KEY_SECRET, ...overrides }
}

export function startRestServer(overrides: Record<string, string | undefined> = {}): Promise<TestServer> {
  return startTestServer({ env: restEnv(overrides) })
}

export const hmacHex = (secret: string, data: string | Buffer) => createHmac('sha256', secret).update(data).digest('hex')

export function strongHeader(secret: string, t: number, method: string, pathWithQuery: string, body: string): string {
  return `t=${t},v1=${hmacHex(secret, `${t}\n${method}\n${pathWithQuery}\n${body}`)}`
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)

export interface CallOptions {
  /** An object is sent as JSON; a string as is. */
  body?: unknown
  /** 'legacy' (default), 'strong', or false for no X-Signature. */
  sign?: 'legacy' | 'strong' | false
  secret?: string
  key?: string | false
  contentType?: string | false
  headers?: Record<string, string>
}

/** Sends one request the way Chevereto's curl examples do (Content-Type: application/json always). */
export async function call(server: TestServer, method: string, path: string, options: CallOptions = {}): Promise<HttpResponse> {
  const body = options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  const target = path.startsWith('/') ? path : `${PREFIX}/${path}`
  const headers: Record<string, string> = {}
  if (options.contentType !== false) headers['content-type'] = options.contentType ?? 'application/json'
  if (options.key !== false) headers['x-api-key'] = options.key ?? API_KEY
  const secret = options.secret ?? REQUEST_SECRET
  if (options.sign === 'strong') headers['x-signature'] = strongHeader(secret, nowSeconds(), method, target, body)
  else if (options.sign !== false) headers['x-signature'] = hmacHex(secret, body)
  if (body !== '') headers['content-length'] = String(Buffer.byteLength(body))
  return rawRequest(server.url + target, { method, headers: { ...headers, ...options.headers }, body: body === '' ? undefined : body })
}
