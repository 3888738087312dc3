/**
 * The singleton tenant configuration (Contember's `config` row), kept as one JSON document in
 * `config.value`. Reads fill in defaults, so a database that never ran `configure` behaves like
 * an upgraded Contember 2.0.8 (password rules off but the length, users not revealed, limits
 * off). Fields whose default comes from the environment (password minimum length, session
 * lifetimes) stay null until configured. The captcha secret is stored sealed, apart from the
 * readable configuration, and never leaves this module unsealed except for verification.
 */
import { eq, sql } from 'drizzle-orm'
import type { Db, DbOrTx } from '../../db/client.js'
import { tenantConfig } from '../../db/schema.js'
import type { Encryption } from '../crypto/encryption.js'
import { intervalMs, minutesInterval } from './interval.js'

export const CONFIG_POLICIES = ['always', 'never', 'optIn', 'optOut'] as const
export type ConfigPolicy = typeof CONFIG_POLICIES[number]
export const CAPTCHA_PROVIDERS = ['turnstile', 'hcaptcha', 'recaptchaV3'] as const
export type CaptchaProvider = typeof CAPTCHA_PROVIDERS[number]
export const RATE_LIMIT_NAMES = ['signUpPerIp', 'loginPerIp', 'passwordResetPerIp', 'passwordlessInitPerIp', 'emailOtpPerPerson', 'emailVerificationPerIp'] as const
export type RateLimitName = typeof RATE_LIMIT_NAMES[number]

export interface RateLimitWindow { limit: number, window: string }

export interface PasswordlessConfig {
  enabled: ConfigPolicy
  url: string | null
  expiration: string
  /** The same lifetime in whole minutes, for 2.0.8 clients. */
  expirationMinutes: number
  expirationMs: number
}

export interface PasswordConfig {
  /** Null: the environment's PASSWORD_MIN_LENGTH. */
  minLength: number | null
  requireUppercase: number
  requireLowercase: number
  requireDigit: number
  requireSpecial: number
  pattern: string | null
  checkBlacklist: boolean
  checkHibp: boolean
}

export interface LoginConfig {
  baseBackoff: string
  maxBackoff: string
  attemptWindow: string
  revealUserExists: boolean
  revealLoginMethod: boolean
  /** Null: the environment's session lifetimes. */
  defaultTokenExpiration: string | null
  maxTokenExpiration: string | null
  mfaGraceDuration: string
  anomalyDetection: { enabled: boolean, historySize: number, emailThreshold: number, stepUpThreshold: number }
}

export interface CaptchaConfig {
  provider: CaptchaProvider | null
  threshold: number | null
  protect: { signUp: boolean, passwordReset: boolean, passwordlessInit: boolean, emailVerification: boolean }
  /** Whether a secret is stored (the secret itself is write-only). */
  hasSecret: boolean
}

export interface TenantConfig {
  signup: { requireEmailVerification: boolean }
  emailChange: { requireVerification: boolean }
  passwordless: PasswordlessConfig
  password: PasswordConfig
  login: LoginConfig
  captcha: CaptchaConfig
  rateLimits: Record<RateLimitName, RateLimitWindow>
}

type Partialish<T> = { [K in keyof T]?: T[K] extends object | null ? Partialish<NonNullable<T[K]>> | null : T[K] | null }

/** A partial update: an omitted field keeps its value, an explicit null is written (Contember). */
export interface TenantConfigInput {
  signup?: Partialish<TenantConfig['signup']> | null
  emailChange?: Partialish<TenantConfig['emailChange']> | null
  passwordless?: { enabled?: ConfigPolicy | null, url?: string | null, expiration?: string | null, expirationMinutes?: number | null } | null
  password?: Partialish<PasswordConfig> | null
  login?: Partialish<LoginConfig> | null
  captcha?: { provider?: CaptchaProvider | null, secret?: string | null, threshold?: number | null, protect?: Partialish<CaptchaConfig['protect']> | null } | null
  rateLimits?: Partial<Record<RateLimitName, Partialish<RateLimitWindow> | null>> | null
}

const SINGLETON = 'singleton'
const DEFAULT_RATE_LIMIT: RateLimitWindow = { limit: 0, window: 'PT15M' }

export const DEFAULTS = {
  signup: { requireEmailVerification: false },
  emailChange: { requireVerification: false },
  passwordless: { enabled: 'never' as ConfigPolicy, url: null, expiration: 'PT5M' },
  password: {
    minLength: null, requireUppercase: 0, requireLowercase: 0, requireDigit: 0, requireSpecial: 0,
    pattern: null, checkBlacklist: false, checkHibp: false,
  } as PasswordConfig,
  login: {
    baseBackoff: 'PT1S', maxBackoff: 'PT1M', attemptWindow: 'PT5M', revealUserExists: false, revealLoginMethod: true,
    defaultTokenExpiration: null, maxTokenExpiration: null, mfaGraceDuration: 'PT0S',
    anomalyDetection: { enabled: false, historySize: 10, emailThreshold: 50, stepUpThreshold: 80 },
  } as LoginConfig,
  captcha: {
    provider: null, threshold: null, hasSecret: false,
    protect: { signUp: true, passwordReset: true, passwordlessInit: true, emailVerification: false },
  } as CaptchaConfig,
  rateLimits: Object.fromEntries(RATE_LIMIT_NAMES.map((name) => [name, name === 'emailOtpPerPerson' ? { limit: 5, window: 'PT15M' } : DEFAULT_RATE_LIMIT])) as Record<RateLimitName, RateLimitWindow>,
}

type Stored = Record<string, any>

/** Takes each default key from the stored object when it has the default's type (or null where null is allowed). */
function overlay<T extends object>(defaults: T, stored: unknown, nullable: readonly string[] = []): T {
  const source = (stored && typeof stored === 'object' ? stored : {}) as Record<string, unknown>
  const result: Record<string, unknown> = {}
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = source[key]
    if (fallback && typeof fallback === 'object') result[key] = overlay(fallback, value)
    else if (value === null && (fallback === null || nullable.includes(key))) result[key] = null
    else if (value !== undefined && value !== null && (fallback === null || typeof value === typeof fallback)) result[key] = value
    else result[key] = fallback
  }
  return result as T
}

function withDefaults(stored: Stored | undefined): TenantConfig {
  const passwordlessStored = (stored?.passwordless ?? {}) as Stored
  const enabled = CONFIG_POLICIES.includes(passwordlessStored.enabled) ? passwordlessStored.enabled as ConfigPolicy : DEFAULTS.passwordless.enabled
  // Rows written before Interval support hold expirationMinutes only.
  const expiration = typeof passwordlessStored.expiration === 'string' && intervalMs(passwordlessStored.expiration) !== null
    ? passwordlessStored.expiration as string
    : typeof passwordlessStored.expirationMinutes === 'number' ? minutesInterval(passwordlessStored.expirationMinutes) : DEFAULTS.passwordless.expiration
  const expirationMs = intervalMs(expiration)!
  const captcha = overlay(DEFAULTS.captcha, stored?.captcha, ['threshold'])
  return {
    signup: overlay(DEFAULTS.signup, stored?.signup),
    emailChange: overlay(DEFAULTS.emailChange, stored?.emailChange),
    passwordless: {
      enabled,
      url: typeof passwordlessStored.url === 'string' ? passwordlessStored.url : null,
      expiration, expirationMs,
      expirationMinutes: Math.max(1, Math.round(expirationMs / 60_000)),
    },
    password: overlay(DEFAULTS.password, stored?.password),
    login: overlay(DEFAULTS.login, stored?.login),
    captcha: { ...captcha, provider: captcha.provider && CAPTCHA_PROVIDERS.includes(captcha.provider) ? captcha.provider : null, hasSecret: typeof stored?.captchaSecret === 'string' },
    rateLimits: overlay(DEFAULTS.rateLimits, stored?.rateLimits),
  }
}

async function readStored(db: DbOrTx): Promise<Stored | undefined> {
  const [row] = await db.select({ value: tenantConfig.value }).from(tenantConfig).where(eq(tenantConfig.id, SINGLETON)).limit(1)
  return row?.value
}

export async function readTenantConfig(db: DbOrTx): Promise<TenantConfig> {
  return withDefaults(await readStored(db))
}

/**
 * How long a node may serve the tenant configuration from memory (cachedTenantConfig): a
 * `configure` on this node takes effect at once, one on another node within this bound.
 */
export const TENANT_CONFIG_CACHE_MS = 5_000
const cached = new WeakMap<Db, { config: Promise<TenantConfig>, at: number, generation: number }>()
let generation = 0

/** Forgets every cached configuration of this process (configure calls it, in and after its transaction). */
export function invalidateTenantConfigCache(): void {
  generation++
}

/**
 * The configuration for hot paths (signIn), read at most once per TENANT_CONFIG_CACHE_MS per
 * database; never for a read inside a transaction, which must see its own writes.
 */
export function cachedTenantConfig(db: Db, nowMs = Date.now()): Promise<TenantConfig> {
  const entry = cached.get(db)
  if (entry && entry.generation === generation && nowMs - entry.at < TENANT_CONFIG_CACHE_MS) return entry.config
  const config = readTenantConfig(db)
  const fresh = { config, at: nowMs, generation }
  cached.set(db, fresh)
  // A failed read is not kept: the next caller tries again.
  config.catch(() => { if (cached.get(db) === fresh) cached.delete(db) })
  return config
}

/** The captcha secret, unsealed, for a siteverify call; null when none is stored. */
export async function readCaptchaSecret(db: DbOrTx, encryption: Encryption): Promise<string | null> {
  const sealed = (await readStored(db))?.captchaSecret
  return typeof sealed === 'string' ? encryption.decrypt(sealed) : null
}

/** Copies the given (not undefined) fields of `input` over `target`, one level of nesting deep for objects. */
function mergeSection(target: Stored, input: Record<string, unknown>): Stored {
  const merged = { ...target }
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue
    merged[key] = value !== null && typeof value === 'object' && !Array.isArray(value)
      ? mergeSection((target[key] ?? {}) as Stored, value as Record<string, unknown>)
      : value
  }
  return merged
}

/**
 * Applies a (validated) partial update inside the caller's transaction and returns the
 * configuration before and after. The row is locked (or created) first, so concurrent updates
 * serialize.
 */
export async function updateTenantConfig(
  tx: DbOrTx, input: TenantConfigInput, now: Date, encryption: Encryption,
): Promise<{ before: TenantConfig, after: TenantConfig }> {
  invalidateTenantConfigCache()
  await tx.insert(tenantConfig).values({ id: SINGLETON }).onConflictDoNothing()
  const [row] = await tx.select({ value: tenantConfig.value }).from(tenantConfig).where(eq(tenantConfig.id, SINGLETON)).for('update')
  const before = withDefaults(row?.value)
  const stored: Stored = { ...(row?.value ?? {}) }
  for (const section of ['signup', 'emailChange', 'password', 'login', 'rateLimits'] as const) {
    const given = input[section]
    if (given) stored[section] = mergeSection(stored[section] ?? {}, given as Record<string, unknown>)
  }
  if (input.passwordless) {
    const { expirationMinutes, ...rest } = input.passwordless
    const passwordless = mergeSection(stored.passwordless ?? {}, rest)
    // expirationMinutes (2.0.8) is the same setting in minutes; an Interval given alongside wins.
    if (typeof expirationMinutes === 'number' && typeof rest.expiration !== 'string') passwordless.expiration = minutesInterval(expirationMinutes)
    delete passwordless.expirationMinutes
    stored.passwordless = passwordless
  }
  if (input.captcha) {
    const { secret, ...rest } = input.captcha
    stored.captcha = mergeSection(stored.captcha ?? {}, rest)
    // Null keeps the stored secret, an empty string clears it (Contember's contract).
    if (secret === '') delete stored.captchaSecret
    else if (typeof secret === 'string') stored.captchaSecret = encryption.encrypt(secret)
  }
  await tx.update(tenantConfig).set({ value: sql`${JSON.stringify(stored)}::jsonb`, updatedAt: now }).where(eq(tenantConfig.id, SINGLETON))
  return { before, after: withDefaults(stored) }
}
