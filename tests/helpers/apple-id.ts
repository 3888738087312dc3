/**
 * A loopback server speaking Sign in with Apple's contract, for the apple IdP tests (reached
 * through IDP_APPLE_ISSUER_OVERRIDE):
 * - GET /.well-known/openid-configuration, GET /auth/keys (JWKS of the peer's own RS256 key);
 * - GET /auth/authorize: checks client_id, the registered redirect URI and response_type; a
 *   scope requires response_mode=form_post, as Apple does. form_post answers Apple's auto-
 *   submitting HTML form with code, state and — on a user's first authorization only — the
 *   `user` JSON with the name; query mode redirects with code and state;
 * - POST /auth/token (client_secret_post): the client_secret must be an ES256 JWT that verifies
 *   with the public half of the developer key (kid = key id, iss = team id, sub = client id,
 *   aud = https://appleid.apple.com, iat/exp present, at most 6 months); the code is usable
 *   once and bound to its redirect_uri. The ID token carries Apple's claims, including its
 *   string booleans (email_verified: "true").
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose'

export const APPLE_TEAM_ID = 'TEAMID1234'
export const APPLE_KEY_ID = 'KEYID56789'
export const APPLE_CLIENT_ID = 'com.example.tenant.web'
export const APPLE_REDIRECT_URL = 'http://127.0.0.1:5999/idp/apple/callback'
const APPLE_AUDIENCE = 'https://appleid.apple.com'

export const APPLE_USERS: Record<string, { email: string, emailVerified: 'true' | 'false', firstName: string, lastName: string }> = {
  '001234.anna': { email: 'anna@example.com', emailVerified: 'true', firstName: 'Anna', lastName: 'Apfel' },
  '001234.bert': { email: 'bert@example.com', emailVerified: 'true', firstName: 'Bert', lastName: 'Birne' },
  '001234.cleo': { email: 'cleo@example.com', emailVerified: 'false', firstName: 'Cleo', lastName: 'Quitte' },
  '001234.dora': { email: 'dora@privaterelay.appleid.com', emailVerified: 'true', firstName: 'Dora', lastName: 'Dattel' },
}

/** What the browser got back from /auth/authorize. */
export type AppleCallback =
  | { mode: 'form_post', action: string, fields: Record<string, string> }
  | { mode: 'query', url: string }

export interface ApplePeer {
  issuer: string
  /** The developer key (Apple keeps the public half): its PEM goes into addIDP's privateKey. */
  privateKeyPem: string
  /** Header and claims of every client_secret JWT that reached /auth/token with a valid signature. */
  clientSecrets: { header: Record<string, unknown>, claims: JWTPayload }[]
  /** The token request bodies, for assertions. */
  tokenRequests: Record<string, string>[]
  /** Follows authUrl as the browser would, signed in to Apple as userId. */
  authorize(authUrl: string, userId: string): Promise<AppleCallback>
  /** The next ID token is signed with a key that is not in the JWKS. */
  signNextIdTokenWithForeignKey(): void
  close(): Promise<void>
}

interface Grant { userId: string, redirectUri: string, clientId: string, nonce?: string, used: boolean }

const randomValue = () => randomBytes(24).toString('base64url')
const escapeHtml = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
}

export async function startApplePeer(): Promise<ApplePeer> {
  const developerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const developerPublicKey: KeyObject = developerKey.publicKey
  const signing = await generateKeyPair('RS256', { extractable: true })
  const foreign = await generateKeyPair('RS256')
  const jwk: JWK = { ...await exportJWK(signing.publicKey), kid: 'apple-test-key', alg: 'RS256', use: 'sig' }
  const grants = new Map<string, Grant>()
  const authorizedBefore = new Set<string>()
  const clientSecrets: ApplePeer['clientSecrets'] = []
  const tokenRequests: Record<string, string>[] = []
  let foreignNext = false
  let issuer = ''

  const discovery = () => ({
    issuer,
    authorization_endpoint: `${issuer}/auth/authorize`,
    token_endpoint: `${issuer}/auth/token`,
    revocation_endpoint: `${issuer}/auth/revoke`,
    jwks_uri: `${issuer}/auth/keys`,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'name'],
    token_endpoint_auth_methods_supported: ['client_secret_post'],
    claims_supported: ['aud', 'email', 'email_verified', 'exp', 'iat', 'is_private_email', 'iss', 'nonce', 'nonce_supported', 'real_user_status', 'sub', 'transfer_sub'],
  })

  const authorize = (res: ServerResponse, params: Record<string, string>) => {
    if (params.client_id !== APPLE_CLIENT_ID) return json(res, 400, { error: 'invalid_client' })
    if (params.redirect_uri !== APPLE_REDIRECT_URL) return json(res, 400, { error: 'invalid_request', error_description: 'Invalid web redirect url.' })
    if (params.response_type !== 'code' && params.response_type !== 'code id_token') return json(res, 400, { error: 'unsupported_response_type' })
    const scopes = (params.scope ?? '').split(' ').filter(Boolean)
    if (scopes.length > 0 && params.response_mode !== 'form_post') {
      return json(res, 400, { error: 'invalid_request', error_description: 'response_mode must be form_post when name or email scope is requested.' })
    }
    const user = APPLE_USERS[params._test_user]
    if (!user) return json(res, 400, { error: 'test: unknown user' })
    const code = `c${randomValue()}.0.abcd.${randomValue()}`
    grants.set(code, { userId: params._test_user, redirectUri: params.redirect_uri, clientId: params.client_id, nonce: params.nonce, used: false })
    const fields: Record<string, string> = { code }
    if (params.state !== undefined) fields.state = params.state
    // Apple sends the name (and e-mail) only the first time a user authorizes the app.
    if (!authorizedBefore.has(params._test_user) && scopes.includes('name')) {
      fields.user = JSON.stringify({ name: { firstName: user.firstName, lastName: user.lastName }, email: user.email })
    }
    authorizedBefore.add(params._test_user)
    if (params.response_mode === 'form_post') {
      const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}" />`).join('')
      res.writeHead(200, { 'content-type': 'text/html' })
      return res.end(`<html><body onload="document.forms[0].submit()"><form method="POST" action="${escapeHtml(params.redirect_uri)}">${inputs}</form></body></html>`)
    }
    const location = new URL(params.redirect_uri)
    for (const [name, value] of Object.entries(fields)) location.searchParams.set(name, value)
    res.writeHead(302, { location: location.toString() }).end()
  }

  const verifyClientSecret = async (clientId: string, secret: string): Promise<boolean> => {
    try {
      const header = decodeProtectedHeader(secret)
      if (header.kid !== APPLE_KEY_ID) return false
      const { payload } = await jwtVerify(secret, developerPublicKey, {
        algorithms: ['ES256'], issuer: APPLE_TEAM_ID, audience: APPLE_AUDIENCE, subject: clientId, requiredClaims: ['iat', 'exp'],
      })
      if (payload.exp! - payload.iat! > 15777000) return false
      clientSecrets.push({ header: { ...header }, claims: payload })
      return true
    } catch {
      return false
    }
  }

  const token = async (res: ServerResponse, form: Record<string, string>) => {
    tokenRequests.push(form)
    if (form.client_id !== APPLE_CLIENT_ID || !(await verifyClientSecret(form.client_id, form.client_secret ?? ''))) return json(res, 400, { error: 'invalid_client' })
    if (form.grant_type !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' })
    const grant = grants.get(form.code ?? '')
    if (!grant || grant.used || grant.redirectUri !== form.redirect_uri || grant.clientId !== form.client_id) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'The code has expired or has been revoked.' })
    }
    grant.used = true
    const user = APPLE_USERS[grant.userId]
    const now = Math.floor(Date.now() / 1000)
    const claims: JWTPayload = {
      sub: grant.userId, email: user.email, email_verified: user.emailVerified,
      is_private_email: user.email.endsWith('@privaterelay.appleid.com') ? 'true' : 'false',
      auth_time: now, nonce_supported: true, ...(grant.nonce ? { nonce: grant.nonce } : {}),
    }
    const key = foreignNext ? foreign.privateKey : signing.privateKey
    foreignNext = false
    const idToken = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
      .setIssuer(issuer).setAudience(grant.clientId).setIssuedAt(now).setExpirationTime(now + 600).sign(key)
    json(res, 200, { access_token: `a${randomValue()}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `r${randomValue()}`, id_token: idToken })
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const route = async () => {
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') return json(res, 200, discovery())
      if (req.method === 'GET' && url.pathname === '/auth/keys') return json(res, 200, { keys: [jwk] })
      if (req.method === 'GET' && url.pathname === '/auth/authorize') return authorize(res, Object.fromEntries(url.searchParams))
      if (req.method === 'POST' && url.pathname === '/auth/token') return token(res, await readForm(req))
      json(res, 404, { error: 'not_found' })
    }
    route().catch(() => res.writeHead(500).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    issuer,
    privateKeyPem: developerKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    clientSecrets,
    tokenRequests,
    async authorize(authUrl, userId) {
      const target = new URL(authUrl)
      target.searchParams.set('_test_user', userId)
      const response = await fetch(target, { redirect: 'manual' })
      const location = response.headers.get('location')
      if (response.status === 302 && location) return { mode: 'query', url: location }
      const html = await response.text()
      if (response.status !== 200) throw new Error(`authorize answered ${response.status}: ${html}`)
      const action = /<form method="POST" action="([^"]*)"/.exec(html)?.[1]
      const unescape = (value: string) => value.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
      const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)" \/>/g)].map(([, name, value]) => [name, unescape(value)]))
      return { mode: 'form_post', action: unescape(action ?? ''), fields }
    },
    signNextIdTokenWithForeignKey() { foreignNext = true },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}
