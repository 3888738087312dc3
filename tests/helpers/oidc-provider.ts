/**
 * A real OpenID Provider (the `oidc-provider` package) in its own process on loopback, for the
 * IdP tests. It has one registered confidential client, test accounts with a password, and a
 * minimal login page: the test POSTs the credentials and the provider finishes login and consent
 * in one step, then redirects to the client's redirect_uri with a code. A small control API
 * (/_test/*) lets a test tamper with the next ID token or mint one with chosen claims, signed
 * with the provider's own key, to prove that our verification refuses it.
 *
 * Imported: startOidcProvider() spawns this file as a child process. Run directly: it serves.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createInterface } from 'node:readline'

export const OIDC_CLIENT_ID = 'tenant-gateway-test'
export const OIDC_CLIENT_SECRET = 'oidc-test-client-secret-0123456789abcdef'
export const OIDC_REDIRECT_URL = 'http://127.0.0.1:5999/idp/callback'
/** Registered for the main client: where RP-initiated logout may send the browser back to. */
export const OIDC_POST_LOGOUT_URL = 'http://127.0.0.1:5999/signed-out'
/** A second client whose ID tokens are HS256, keyed with its client secret. */
export const OIDC_HS256_CLIENT_ID = 'tenant-gateway-hs256'

export interface OidcAccount {
  password: string
  claims: { email?: string, email_verified?: boolean, name?: string }
}

/** Accounts the provider knows; the account id is the `sub`. */
export const OIDC_ACCOUNTS: Record<string, OidcAccount> = {
  'sub-alice': { password: 'alice-pw', claims: { email: 'alice@example.com', email_verified: true, name: 'Alice Example' } },
  'sub-bob': { password: 'bob-pw', claims: { email: 'bob@example.com', email_verified: true, name: 'Bob Builder' } },
  'sub-carol': { password: 'carol-pw', claims: { email: 'carol@example.com', email_verified: true } },
  'sub-dave': { password: 'dave-pw', claims: { email: 'dave@example.com', email_verified: true, name: 'Dave' } },
  'sub-erin': { password: 'erin-pw', claims: { email: 'erin@example.com', email_verified: true, name: 'Erin' } },
  'sub-frank': { password: 'frank-pw', claims: { email: 'frank@example.com', email_verified: true, name: 'Frank' } },
  'sub-grace': { password: 'grace-pw', claims: { email: 'grace@example.com', email_verified: true, name: 'Grace' } },
  'sub-heidi': { password: 'heidi-pw', claims: { email: 'heidi@example.com', email_verified: true, name: 'Heidi' } },
}

export type TamperMode = 'payload' | 'foreign-key' | 'none'

export interface OidcProviderHandle {
  issuer: string
  /** Makes the provider alter the ID token of its next token response. */
  tamperNextIdToken(mode: TamperMode): Promise<void>
  /** An ID token with these claims merged over sensible defaults, signed with the provider's key. */
  signIdToken(claims: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

/** `rpInitiatedLogout: false` starts a provider without end_session_endpoint (a legacy IdP). */
export async function startOidcProvider(options: { rpInitiatedLogout?: boolean } = {}): Promise<OidcProviderHandle> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OIDC_TEST_PROVIDER: '1', OIDC_TEST_LOGOUT: options.rpInitiatedLogout === false ? 'off' : 'on' },
  })
  const stderr: string[] = []
  child.stderr!.on('data', (chunk) => stderr.push(String(chunk)))
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      if (line.startsWith('ISSUER ')) resolve(line.slice('ISSUER '.length))
    })
    child.once('exit', (code) => reject(new Error(`OIDC provider exited with ${code}: ${stderr.join('')}`)))
  })
  const control = async (path: string, body: unknown) => {
    const response = await fetch(`${issuer}/_test/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`control ${path} failed: ${response.status}`)
    return response.text()
  }
  return {
    issuer,
    tamperNextIdToken: async (mode) => { await control('tamper', { mode }) },
    signIdToken: (claims) => control('sign', claims),
    close: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}

/** Cookie jar + manual redirects: what a browser does between authUrl and the callback. */
export class Browser {
  private cookies = new Map<string, string>()

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' })
  }

  async postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() })
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const index = pair.indexOf('=')
      const name = pair.slice(0, index).trim()
      const value = pair.slice(index + 1).trim()
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  /**
   * Follows authUrl through the provider's login page with these credentials and returns the
   * callback URL (the redirect to OIDC_REDIRECT_URL), which is never fetched.
   */
  async signInAt(authUrl: string, login: string, password: string): Promise<string> {
    let response = await this.get(authUrl)
    let location = absolute(response, authUrl)
    const loginPage = location
    if (!/\/interaction\//.test(loginPage)) throw new Error(`expected the login interaction, got ${response.status} ${location}`)
    response = await this.get(loginPage)
    if (response.status !== 200) throw new Error(`login page: ${response.status}`)
    response = await this.postForm(`${loginPage}/login`, { login, password })
    location = absolute(response, loginPage)
    for (let hops = 0; hops < 5 && !location.startsWith(OIDC_REDIRECT_URL); hops++) {
      response = await this.get(location)
      location = absolute(response, location)
    }
    if (!location.startsWith(OIDC_REDIRECT_URL)) throw new Error(`never reached the callback: ${location}`)
    return location
  }
}

function absolute(response: Response, base: string): string {
  const location = response.headers.get('location')
  if (!location) throw new Error(`expected a redirect, got ${response.status}`)
  return new URL(location, base).toString()
}

// ---------------------------------------------------------------------------------------------
// The provider process itself.

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function serve(): Promise<void> {
  // oidc-provider ships no type declarations; the few members used here are typed below.
  const providerModule: string = 'oidc-provider'
  const { default: Provider } = await import(providerModule) as { default: new (issuer: string, config: unknown) => ProviderInstance }
  const jose = await import('jose')
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true })
  const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' }
  const foreign = await jose.generateKeyPair('RS256', { extractable: true })
  let tamper: TamperMode = 'none'

  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const issuer = `http://127.0.0.1:${port}`

  const provider = new Provider(issuer, {
    clients: [{
      client_id: OIDC_CLIENT_ID,
      client_secret: OIDC_CLIENT_SECRET,
      redirect_uris: [OIDC_REDIRECT_URL],
      post_logout_redirect_uris: [OIDC_POST_LOGOUT_URL],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }, {
      client_id: OIDC_HS256_CLIENT_ID,
      client_secret: OIDC_CLIENT_SECRET,
      redirect_uris: [OIDC_REDIRECT_URL],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'HS256',
    }],
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['oidc-test-cookie-key'] },
    // Real providers (Google, Entra ID) put email and name in the ID token; so does this one.
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: process.env.OIDC_TEST_LOGOUT !== 'off' } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = OIDC_ACCOUNTS[sub]
      if (!account) return undefined
      return { accountId: sub, claims: () => ({ sub, ...account.claims }) }
    },
  } as never)

  // The control switch rewrites the token endpoint's answer after the provider produced it.
  provider.use(async (ctx: KoaContext, next: () => Promise<void>) => {
    await next()
    if (ctx.path !== '/token' || tamper === 'none' || !ctx.body || typeof ctx.body !== 'object') return
    const body = ctx.body as { id_token?: string }
    if (!body.id_token) return
    const [header, payload, signature] = body.id_token.split('.')
    if (tamper === 'payload') {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
      claims.sub = 'sub-mallory'
      claims.email = 'root@example.com'
      body.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.')
    } else {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
      body.id_token = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-rs256' }).sign(foreign.privateKey)
    }
    tamper = 'none'
  })

  const callback = provider.callback()
  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', issuer)
      if (url.pathname === '/_test/tamper' && req.method === 'POST') {
        tamper = JSON.parse(await readBody(req)).mode
        res.end('ok')
        return
      }
      if (url.pathname === '/_test/sign' && req.method === 'POST') {
        const claims = JSON.parse(await readBody(req))
        const now = Math.floor(Date.now() / 1000)
        const token = await new jose.SignJWT({ iss: issuer, aud: OIDC_CLIENT_ID, iat: now, exp: now + 300, ...claims })
          .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256' }).sign(privateKey)
        res.end(token)
        return
      }
      const interaction = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname)
      if (interaction) return await handleInteraction(provider, req, res, Boolean(interaction[2]))
      callback(req, res)
    } catch (error) {
      res.statusCode = 500
      res.end(String(error))
    }
  })
  process.stdout.write(`ISSUER ${issuer}\n`)
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}

interface KoaContext { path: string, body: unknown }
interface ProviderInstance {
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ uid: string, params: Record<string, unknown> }>
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: unknown, options: { mergeWithLastSubmission: boolean }): Promise<void>
  Grant: new (init: { accountId: string, clientId: string }) => { addOIDCScope(scope: string): void, save(): Promise<string> }
}

async function handleInteraction(provider: ProviderInstance, req: IncomingMessage, res: ServerResponse, submitted: boolean): Promise<void> {
  const details = await provider.interactionDetails(req, res)
  if (!submitted) {
    res.setHeader('content-type', 'text/html')
    res.end(`<form method="post" action="/interaction/${details.uid}/login"><input name="login"><input name="password" type="password"><button>Sign in</button></form>`)
    return
  }
  const form = new URLSearchParams(await readBody(req))
  const login = form.get('login') ?? ''
  const account = OIDC_ACCOUNTS[login]
  if (!account || account.password !== form.get('password')) {
    res.statusCode = 401
    res.end('invalid credentials')
    return
  }
  const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) })
  grant.addOIDCScope(String(details.params.scope))
  const grantId = await grant.save()
  await provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } }, { mergeWithLastSubmission: false })
}

if (process.env.OIDC_TEST_PROVIDER === '1' && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serve().catch((error) => {
    process.stderr.write(String(error?.stack ?? error))
    process.exit(1)
  })
}
