/**
 * A loopback server speaking Facebook Login's contract, for the facebook IdP tests (the server
 * under test reaches it through IDP_FACEBOOK_DIALOG_URL_OVERRIDE and _GRAPH_URL_OVERRIDE):
 * - GET /v{N}/dialog/oauth: checks the app id, the registered redirect URI and response_type,
 *   then redirects the "browser" (already logged in as the user the test names) back with a
 *   code and the state; a PKCE challenge is remembered for the exchange;
 * - /v{N}/oauth/access_token (GET or POST form): checks client_id, client_secret, redirect_uri
 *   (identical to the dialog's), the code (usable once) and the PKCE verifier; answers
 *   {access_token, token_type, expires_in} or Graph's {error: {message, type, code}};
 * - GET /me?fields=…&access_token=…&appsecret_proof=…: the app has "Require App Secret" on, so
 *   the proof must be HMAC-SHA256(token, secret of the app the token was issued to).
 * sdkLogin() mints what the JS SDK hands a page after FB.login(): an access token and a
 * signed request (base64url HMAC-SHA256 signature "." base64url JSON payload).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export const FACEBOOK_APP_ID = '4242424242424242'
export const FACEBOOK_APP_SECRET = 'facebook-app-secret-0123456789abcdef'
export const FACEBOOK_REDIRECT_URL = 'http://127.0.0.1:5999/idp/facebook/callback'
/** Another app on Facebook: its tokens are not ours, whatever user they belong to. */
const OTHER_APP_SECRET = 'another-facebook-app-secret'

/** Facebook users by app-scoped id. */
export const FACEBOOK_USERS: Record<string, { name: string, email?: string }> = {
  '10001': { name: 'Fiona Facebook', email: 'fiona@example.com' },
  '10002': { name: 'Gustav Graph', email: 'gustav@example.com' },
  '10003': { name: 'Hana Without Email' },
  '10004': { name: 'Ivo Graph', email: 'ivo@example.com' },
}

export interface FacebookRequest {
  method: string
  path: string
  params: Record<string, string>
}

export interface FacebookPeer {
  /** Origin of both the dialog and the Graph API. */
  url: string
  requests: FacebookRequest[]
  /** The browser follows authUrl while logged in to Facebook as userId; returns the callback URL. */
  authorize(authUrl: string, userId: string): Promise<string>
  /** FB.login()'s authResponse; `signWith` forges the signature with another secret. */
  sdkLogin(userId: string, options?: { signWith?: string, signedUserId?: string }): { accessToken: string, signedRequest: string }
  /** An access token Facebook issued to another app for this user. */
  foreignToken(userId: string): string
  close(): Promise<void>
}

interface Grant { userId: string, redirectUri: string, challenge?: string, used: boolean }

const randomValue = () => randomBytes(24).toString('base64url')

function graphError(res: ServerResponse, status: number, message: string, type: string, code: number): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: { message, type, code, fbtrace_id: randomValue() } }))
}

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks).toString('utf8')
  const form = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body) : new URLSearchParams()
  return Object.fromEntries([...url.searchParams, ...form])
}

export function signRequest(payload: Record<string, unknown>, secret: string): string {
  const encodedPayload = Buffer.from(JSON.stringify(payload)).toString('base64url')
  return `${createHmac('sha256', secret).update(encodedPayload).digest('base64url')}.${encodedPayload}`
}

export async function startFacebookPeer(): Promise<FacebookPeer> {
  const requests: FacebookRequest[] = []
  const grants = new Map<string, Grant>()
  const tokens = new Map<string, { userId: string, appSecret: string }>()
  const issueToken = (userId: string, appSecret = FACEBOOK_APP_SECRET) => {
    const token = `EAA${randomValue()}`
    tokens.set(token, { userId, appSecret })
    return token
  }

  const dialog = (res: ServerResponse, params: Record<string, string>) => {
    if (params.client_id !== FACEBOOK_APP_ID) return graphError(res, 400, 'Invalid App ID', 'OAuthException', 101)
    if (params.redirect_uri !== FACEBOOK_REDIRECT_URL) return graphError(res, 400, 'URL blocked: redirect_uri is not a valid OAuth redirect URI', 'OAuthException', 191)
    if ((params.response_type ?? 'code') !== 'code') return graphError(res, 400, 'Unsupported response_type', 'OAuthException', 100)
    const userId = params._test_user
    if (!FACEBOOK_USERS[userId]) return graphError(res, 400, 'test: unknown user', 'OAuthException', 100)
    const code = `AQ${randomValue()}`
    grants.set(code, { userId, redirectUri: params.redirect_uri, challenge: params.code_challenge, used: false })
    const location = new URL(params.redirect_uri)
    location.searchParams.set('code', code)
    if (params.state !== undefined) location.searchParams.set('state', params.state)
    res.writeHead(302, { location: location.toString() }).end()
  }

  const accessToken = (res: ServerResponse, params: Record<string, string>) => {
    if (params.client_id !== FACEBOOK_APP_ID) return graphError(res, 400, 'Error validating application. Invalid application ID.', 'OAuthException', 101)
    if (params.client_secret !== FACEBOOK_APP_SECRET) return graphError(res, 400, 'Error validating client secret.', 'OAuthException', 1)
    const grant = grants.get(params.code ?? '')
    if (!grant) return graphError(res, 400, 'Invalid verification code format.', 'OAuthException', 100)
    if (grant.used) return graphError(res, 400, 'This authorization code has been used.', 'OAuthException', 100)
    if (params.redirect_uri !== grant.redirectUri) {
      return graphError(res, 400, 'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request', 'OAuthException', 100)
    }
    if (grant.challenge !== undefined && createHash('sha256').update(params.code_verifier ?? '').digest('base64url') !== grant.challenge) {
      return graphError(res, 400, 'Invalid code verifier.', 'OAuthException', 100)
    }
    grant.used = true
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ access_token: issueToken(grant.userId), token_type: 'bearer', expires_in: 5183944 }))
  }

  const me = (res: ServerResponse, params: Record<string, string>) => {
    const token = tokens.get(params.access_token ?? '')
    if (!token) return graphError(res, 400, 'Invalid OAuth access token - Cannot parse access token', 'OAuthException', 190)
    if (!params.appsecret_proof) return graphError(res, 400, 'API calls from the server require an appsecret_proof argument', 'GraphMethodException', 100)
    if (params.appsecret_proof !== createHmac('sha256', token.appSecret).update(params.access_token).digest('hex')) {
      return graphError(res, 400, 'Invalid appsecret_proof provided in the API argument', 'GraphMethodException', 100)
    }
    const user = FACEBOOK_USERS[token.userId]
    const fields = (params.fields ?? 'id,name').split(',')
    const profile: Record<string, string> = {}
    if (fields.includes('id')) profile.id = token.userId
    if (fields.includes('name')) profile.name = user.name
    if (fields.includes('email') && user.email) profile.email = user.email
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile))
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    readParams(req, url).then((params) => {
      requests.push({ method: req.method ?? 'GET', path: url.pathname, params })
      if (req.method === 'GET' && /^\/v\d+\.\d+\/dialog\/oauth$/.test(url.pathname)) return dialog(res, params)
      if (/^\/v\d+\.\d+\/oauth\/access_token$/.test(url.pathname)) return accessToken(res, params)
      if (req.method === 'GET' && url.pathname === '/me') return me(res, params)
      graphError(res, 404, 'Unknown path components', 'OAuthException', 2500)
    }).catch(() => res.writeHead(500).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    requests,
    async authorize(authUrl, userId) {
      const target = new URL(authUrl)
      target.searchParams.set('_test_user', userId)
      const response = await fetch(target, { redirect: 'manual' })
      const location = response.headers.get('location')
      if (response.status !== 302 || !location) throw new Error(`the dialog answered ${response.status}: ${await response.text()}`)
      return location
    },
    sdkLogin(userId, options = {}) {
      const payload = { algorithm: 'HMAC-SHA256', code: randomValue(), issued_at: Math.floor(Date.now() / 1000), user_id: options.signedUserId ?? userId }
      return { accessToken: issueToken(userId), signedRequest: signRequest(payload, options.signWith ?? FACEBOOK_APP_SECRET) }
    },
    foreignToken: (userId) => issueToken(userId, OTHER_APP_SECRET),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}
