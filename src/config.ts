/**
 * Every environment variable the service reads, parsed and validated once. Nothing else in the
 * code reads process.env. A bad value is a ConfigError naming the variable.
 */
import { isIP } from 'node:net'

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
export type SignatureMode = 'legacy' | 'strict'

export interface Config {
  port: number
  host: string
  nodeEnv: string
  databaseUrl?: string
  dataDir: string
  logLevel: LogLevel
  /** 32-byte AES key; undefined only before the embedded key file is read (see secrets/key-file). */
  encryptionKey?: Buffer
  bootstrap: {
    rootToken?: string
    loginToken?: string
    rootEmail: string
    rootPassword?: string
  }
  trustedProxies: string[]
  redisUrl?: string
  passwords: {
    minLength: number
    maxBytes: number
    argon2MemoryKib: number
    argon2TimeCost: number
    /** Base URL of the Have I Been Pwned range API, used when the tenant config sets password.checkHibp. */
    hibpApiUrl: string
  }
  sessions: {
    defaultExpirationMinutes: number
    maxExpirationMinutes: number
  }
  mail: {
    smtpUrl?: string
    from: string
    /** How often the dispatcher looks for unsent mail (retries, mail written by other nodes). */
    pollIntervalSeconds: number
    /** Delay of each delivery attempt after the mail was written; its length is the attempt limit. */
    retryDelaysSeconds: number[]
  }
  publicSignUp: boolean
  /** Anti-abuse knobs that are not part of Contember's Config (that lives in the database). */
  abuse: {
    /** Prefix of every rate-limit key in Redis (REDIS_URL), so deployments can share one Redis. */
    redisKeyPrefix: string
    /** Failed password sign-ins per e-mail that cost nothing before the exponential backoff starts. */
    loginFreeAttempts: number
    /** Consecutive failed password sign-ins that lock the account (NIST SP 800-63B: at most 100). */
    lockoutThreshold: number
    lockoutMinutes: number
    /** Replaces the captcha provider's siteverify URL (tests, or a verifying proxy). */
    captchaVerifyUrl?: string
  }
  /** Facebook's and Apple's fixed endpoints; the *_OVERRIDE variables point them at test peers. */
  idp: {
    /** Origin of the OAuth dialog (https://www.facebook.com). */
    facebookDialogUrl: string
    /** Origin of the Graph API (https://graph.facebook.com): token exchange and /me. */
    facebookGraphUrl: string
    /** Apple's OpenID issuer; discovery is read from it. */
    appleIssuer: string
  }
  tenantsApi: {
    ipAllowList: string[]
    apiKeySecret?: string
    apiKey?: string
    requestSecrets: string[]
    signatureMode: SignatureMode
    signatureToleranceSeconds: number
    allowUnsigned: boolean
    bodyLimitBytes: number
    /** Peers allowed to read /config/traefik in addition to loopback. */
    internalAllowList: string[]
  }
  traefik: {
    rootHostname: string
    serviceName: string
    servicePort: number
    entryPoint?: string
    proxyIpAllowList: string[]
    certResolver?: string
    tenantEnforced: Record<string, string>
  }
}

type Env = Record<string, string | undefined>

/** Reads the first of several names that is set (our name first, Chevereto's after it). */
function pick(env: Env, ...names: string[]): { name: string, value: string } | undefined {
  for (const name of names) {
    const value = env[name]
    if (value !== undefined && value !== '') return { name, value }
  }
  return undefined
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new ConfigError(name, `must be true or false, got "${raw}"`)
}

/** MAIL_RETRY_DELAYS: seconds after the mail was written, e.g. "0,60,300" = three attempts. */
function retryDelays(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [0, 60, 300, 1800, 7200, 21600]
  const delays = list(raw)
  if (delays.length === 0 || delays.length > 20 || !delays.every((d) => /^\d{1,6}$/.test(d))) {
    throw new ConfigError('MAIL_RETRY_DELAYS', `must be 1 to 20 comma-separated whole seconds, got "${raw}"`)
  }
  return delays.map(Number)
}

/** An http(s) URL that replaces a fixed third-party endpoint, without a trailing slash. */
function overrideUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new ConfigError(name, 'must be an http(s) URL')
  return raw.replace(/\/+$/, '')
}

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}

/** Accepts IPs and CIDRs of both families; `cloudflare` only where allowTokens says so. */
function addressList(name: string, raw: string | undefined, allowTokens: string[] = []): string[] {
  const items = list(raw)
  for (const item of items) {
    if (allowTokens.includes(item)) continue
    const [address, prefix, extra] = item.split('/')
    const family = isIP(address)
    const maxPrefix = family === 4 ? 32 : 128
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= maxPrefix)
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError(name, `"${item}" is not an IP address or CIDR`)
    }
  }
  return items
}

export function parseEncryptionKey(raw: string, name = 'ENCRYPTION_KEY'): Buffer {
  const trimmed = raw.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex')
  if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64')
    if (key.length === 32) return key
  }
  throw new ConfigError(name, 'must be 64 hex characters or the base64 of 32 bytes (openssl rand -base64 32)')
}

const TOKEN = /^[0-9a-zA-Z_]{20,}$/
const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development'
  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`)

  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL')
  }
  const encryptionKeyRaw = pick(env, 'ENCRYPTION_KEY', 'CONTEMBER_ENCRYPTION_KEY', 'CHEVERETO_ENCRYPTION_KEY')
  const encryptionKey = encryptionKeyRaw ? parseEncryptionKey(encryptionKeyRaw.value, encryptionKeyRaw.name) : undefined
  if (databaseUrl && !encryptionKey) {
    throw new ConfigError('ENCRYPTION_KEY', 'is required with DATABASE_URL (generate one: openssl rand -base64 32)')
  }

  for (const name of ['CONTEMBER_ROOT_TOKEN', 'CONTEMBER_LOGIN_TOKEN']) {
    const token = env[name]
    if (token && !TOKEN.test(token)) throw new ConfigError(name, 'must be at least 20 word characters (e.g. 40 hex)')
  }
  const rootPassword = env.CONTEMBER_ROOT_PASSWORD || undefined
  const rootEmail = env.CONTEMBER_ROOT_EMAIL || 'root@localhost'
  if (!/^[^\s@]+@[^\s@]+$/.test(rootEmail)) throw new ConfigError('CONTEMBER_ROOT_EMAIL', `"${rootEmail}" is not an e-mail address`)

  const minLength = integer(env, 'PASSWORD_MIN_LENGTH', 8, 1, 128)
  const passwords = {
    minLength,
    maxBytes: integer(env, 'PASSWORD_MAX_BYTES', 128, minLength, 4096),
    argon2MemoryKib: integer(env, 'ARGON2_MEMORY_KIB', 19456, 1024, 4194304),
    argon2TimeCost: integer(env, 'ARGON2_TIME_COST', 2, 1, 100),
    hibpApiUrl: (env.HIBP_API_URL || 'https://api.pwnedpasswords.com').replace(/\/+$/, ''),
  }
  if (!/^https?:\/\/[^\s]+$/.test(passwords.hibpApiUrl)) throw new ConfigError('HIBP_API_URL', 'must be an http(s) URL')
  if (rootPassword && Buffer.byteLength(rootPassword) < passwords.minLength) {
    throw new ConfigError('CONTEMBER_ROOT_PASSWORD', `must be at least ${passwords.minLength} characters`)
  }

  const defaultExpirationMinutes = integer(env, 'SESSION_EXPIRATION_MINUTES', 30, 1, 10_000_000)
  const sessions = {
    defaultExpirationMinutes,
    maxExpirationMinutes: integer(env, 'SESSION_MAX_EXPIRATION_MINUTES', 6 * 30 * 24 * 60, defaultExpirationMinutes, 100_000_000),
  }

  const smtpUrl = env.SMTP_URL || undefined
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) throw new ConfigError('SMTP_URL', 'must be an smtp:// or smtps:// URL')
  const redisUrl = env.REDIS_URL || undefined
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL')

  const apiKey = env.TENANTS_API_KEY || undefined
  if (apiKey && apiKey.length < 32) throw new ConfigError('TENANTS_API_KEY', 'must be at least 32 characters')
  const secretSource = pick(env, 'TENANTS_API_REQUEST_SECRET', 'CHEVERETO_TENANTS_API_REQUEST_SECRET')
  const requestSecrets = list(secretSource?.value)
  if (requestSecrets.length > 2) throw new ConfigError(secretSource!.name, 'holds at most two comma-separated secrets')
  const signatureMode = (env.TENANTS_API_SIGNATURE_MODE || 'legacy') as SignatureMode
  if (signatureMode !== 'legacy' && signatureMode !== 'strict') {
    throw new ConfigError('TENANTS_API_SIGNATURE_MODE', 'must be legacy or strict')
  }
  const allowUnsigned = bool(env, 'TENANTS_API_ALLOW_UNSIGNED', false)
  if (nodeEnv === 'production' && requestSecrets.length === 0 && !allowUnsigned) {
    throw new ConfigError('TENANTS_API_REQUEST_SECRET', 'is required in production (or set TENANTS_API_ALLOW_UNSIGNED=true)')
  }
  const allowSource = pick(env, 'TENANTS_API_IP_ALLOW_LIST', 'CHEVERETO_TENANTS_API_IP_ALLOW_LIST')

  const enforcedRaw = pick(env, 'TENANT_ENFORCED', 'CHEVERETO_TENANT_ENFORCED')
  let tenantEnforced: Record<string, string> = {}
  if (enforcedRaw) {
    try {
      const parsed: unknown = JSON.parse(enforcedRaw.value)
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object')
      tenantEnforced = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]))
    } catch {
      throw new ConfigError(enforcedRaw.name, 'must be a JSON object')
    }
  }

  const captchaVerifyUrl = env.CAPTCHA_VERIFY_URL_OVERRIDE || undefined
  if (captchaVerifyUrl && !/^https?:\/\/[^\s]+$/.test(captchaVerifyUrl)) throw new ConfigError('CAPTCHA_VERIFY_URL_OVERRIDE', 'must be an http(s) URL')
  const abuse = {
    redisKeyPrefix: env.RATE_LIMIT_REDIS_PREFIX || 'tenant-gateway:rl:',
    loginFreeAttempts: integer(env, 'LOGIN_BACKOFF_FREE_ATTEMPTS', 3, 0, 20),
    lockoutThreshold: integer(env, 'LOGIN_LOCKOUT_THRESHOLD', 100, 1, 100),
    lockoutMinutes: integer(env, 'LOGIN_LOCKOUT_MINUTES', 60, 1, 7 * 24 * 60),
    captchaVerifyUrl,
  }

  const host = env.HOST || '127.0.0.1'
  const entryPoint = pick(env, 'TRAEFIK_ENTRYPOINT', 'CHEVERETO_PROXY_ENTRYPOINT')?.value
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host,
    nodeEnv,
    databaseUrl,
    dataDir: env.DATA_DIR || './data',
    logLevel,
    encryptionKey,
    bootstrap: {
      rootToken: env.CONTEMBER_ROOT_TOKEN || undefined,
      loginToken: env.CONTEMBER_LOGIN_TOKEN || undefined,
      rootEmail,
      rootPassword,
    },
    trustedProxies: addressList('TRUSTED_PROXIES', env.TRUSTED_PROXIES),
    redisUrl,
    passwords,
    sessions,
    mail: {
      smtpUrl,
      from: env.MAIL_FROM || 'tenant-gateway@localhost',
      pollIntervalSeconds: integer(env, 'MAIL_POLL_INTERVAL_SECONDS', 30, 1, 86400),
      retryDelaysSeconds: retryDelays(env.MAIL_RETRY_DELAYS),
    },
    publicSignUp: bool(env, 'PUBLIC_SIGN_UP', false),
    abuse,
    idp: {
      facebookDialogUrl: overrideUrl(env, 'IDP_FACEBOOK_DIALOG_URL_OVERRIDE', 'https://www.facebook.com'),
      facebookGraphUrl: overrideUrl(env, 'IDP_FACEBOOK_GRAPH_URL_OVERRIDE', 'https://graph.facebook.com'),
      appleIssuer: overrideUrl(env, 'IDP_APPLE_ISSUER_OVERRIDE', 'https://appleid.apple.com'),
    },
    tenantsApi: {
      ipAllowList: addressList(allowSource?.name ?? 'TENANTS_API_IP_ALLOW_LIST', allowSource?.value),
      apiKeySecret: pick(env, 'TENANTS_API_KEY_SECRET', 'CHEVERETO_TENANTS_API_KEY_SECRET')?.value,
      apiKey,
      requestSecrets,
      signatureMode,
      signatureToleranceSeconds: integer(env, 'TENANTS_API_SIGNATURE_TOLERANCE', 300, 1, 86400),
      allowUnsigned,
      bodyLimitBytes: integer(env, 'TENANTS_API_BODY_LIMIT', 64 * 1024, 1024, 10 * 1024 * 1024),
      internalAllowList: addressList('TRAEFIK_CONFIG_ALLOW_LIST', env.TRAEFIK_CONFIG_ALLOW_LIST),
    },
    traefik: {
      rootHostname: pick(env, 'TRAEFIK_ROOT_HOSTNAME', 'CHEVERETO_HOSTNAME')?.value ?? 'localhost',
      serviceName: pick(env, 'TRAEFIK_SERVICE_NAME', 'CHEVERETO_SERVICE_NAME')?.value ?? 'app',
      servicePort: integer(env, pick(env, 'TRAEFIK_SERVICE_PORT', 'CHEVERETO_SERVICE_PORT')?.name ?? 'TRAEFIK_SERVICE_PORT', 8080, 1, 65535),
      entryPoint,
      proxyIpAllowList: addressList(
        pick(env, 'TRAEFIK_PROXY_IP_ALLOW_LIST', 'CHEVERETO_PROXY_IP_ALLOW_LIST')?.name ?? 'TRAEFIK_PROXY_IP_ALLOW_LIST',
        pick(env, 'TRAEFIK_PROXY_IP_ALLOW_LIST', 'CHEVERETO_PROXY_IP_ALLOW_LIST')?.value,
        ['cloudflare'],
      ),
      certResolver: env.TRAEFIK_CERT_RESOLVER || undefined,
      tenantEnforced,
    },
  }
}
