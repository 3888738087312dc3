/**
 * Validation of a `configure` input: the first problem found, naming the field, or null. Values
 * that would break a flow (a null policy, a zero lifetime, an unusable pattern, a captcha
 * provider without a secret) are refused instead of stored.
 */
import type { Config } from '../../config.js'
import { intervalMs } from './interval.js'
import { RATE_LIMIT_NAMES, type TenantConfig, type TenantConfigInput } from './tenant-config.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const DAY = 24 * 60 * MINUTE

type Check = string | null

function notNull(section: string, input: Record<string, unknown>, nullable: readonly string[] = []): Check {
  for (const [key, value] of Object.entries(input)) {
    if (value === null && !nullable.includes(key)) return `${section}.${key} cannot be null`
  }
  return null
}

function integerIn(field: string, value: unknown, min: number, max: number): Check {
  if (value === undefined || value === null) return null
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? null : `${field} must be an integer between ${min} and ${max}`
}

function intervalIn(field: string, value: unknown, minMs: number, maxMs: number, describe: string): Check {
  if (value === undefined || value === null) return null
  const ms = intervalMs(String(value))
  return ms !== null && ms >= minMs && ms <= maxMs ? null : `${field} must be an interval ${describe}`
}

function first(...checks: Check[]): Check {
  return checks.find((check) => check !== null) ?? null
}

function passwordlessProblem(input: NonNullable<TenantConfigInput['passwordless']>): Check {
  const minutes = input.expirationMinutes
  return first(
    notNull('passwordless', input, ['url']),
    integerIn('passwordless.expirationMinutes', minutes, 1, 7 * 24 * 60),
    intervalIn('passwordless.expiration', input.expiration, MINUTE, 7 * DAY, 'between PT1M and P7D'),
    typeof input.url === 'string' && !/^https?:\/\/[^\s]+$/i.test(input.url) ? 'passwordless.url must be an http(s) URL' : null,
  )
}

function passwordProblem(input: NonNullable<TenantConfigInput['password']>, config: Config): Check {
  let pattern: Check = null
  if (typeof input.pattern === 'string') {
    if (input.pattern.length > 500) pattern = 'password.pattern must be at most 500 characters'
    else {
      try {
        new RegExp(input.pattern, 'u')
      } catch {
        pattern = 'password.pattern must be a valid regular expression'
      }
    }
  }
  const floor = config.passwords.minLength
  return first(
    notNull('password', input, ['pattern', 'minLength']),
    integerIn('password.minLength', input.minLength, floor, config.passwords.maxBytes),
    ...(['requireUppercase', 'requireLowercase', 'requireDigit', 'requireSpecial'] as const)
      .map((key) => integerIn(`password.${key}`, input[key], 0, 64)),
    pattern,
  )
}

function loginProblem(input: NonNullable<TenantConfigInput['login']>, current: TenantConfig['login']): Check {
  const merged = { ...current, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as TenantConfig['login']
  const ms = (value: string | null) => (value === null ? null : intervalMs(value))
  const detection = input.anomalyDetection
  return first(
    notNull('login', input, ['defaultTokenExpiration', 'maxTokenExpiration']),
    intervalIn('login.baseBackoff', input.baseBackoff, 0, 60 * MINUTE, 'between PT0S and PT1H'),
    intervalIn('login.maxBackoff', input.maxBackoff, 0, DAY, 'between PT0S and P1D'),
    intervalIn('login.attemptWindow', input.attemptWindow, SECOND, DAY, 'between PT1S and P1D'),
    intervalIn('login.mfaGraceDuration', input.mfaGraceDuration, 0, 365 * DAY, 'between PT0S and P1Y'),
    intervalIn('login.defaultTokenExpiration', input.defaultTokenExpiration, MINUTE, 10 * 365 * DAY, 'between PT1M and P10Y'),
    intervalIn('login.maxTokenExpiration', input.maxTokenExpiration, MINUTE, 10 * 365 * DAY, 'between PT1M and P10Y'),
    ms(merged.maxBackoff)! < ms(merged.baseBackoff)! ? 'login.maxBackoff must not be shorter than login.baseBackoff' : null,
    merged.defaultTokenExpiration && merged.maxTokenExpiration && ms(merged.defaultTokenExpiration)! > ms(merged.maxTokenExpiration)!
      ? 'login.defaultTokenExpiration must not be longer than login.maxTokenExpiration' : null,
    detection ? first(
      notNull('login.anomalyDetection', detection),
      integerIn('login.anomalyDetection.historySize', detection.historySize, 1, 100),
      integerIn('login.anomalyDetection.emailThreshold', detection.emailThreshold, 0, 100),
      integerIn('login.anomalyDetection.stepUpThreshold', detection.stepUpThreshold, 0, 100),
    ) : null,
  )
}

function captchaProblem(input: NonNullable<TenantConfigInput['captcha']>, current: TenantConfig['captcha']): Check {
  const provider = input.provider === undefined ? current.provider : input.provider
  const hasSecret = input.secret === '' ? false : typeof input.secret === 'string' ? true : current.hasSecret
  const threshold = input.threshold
  return first(
    input.protect ? notNull('captcha.protect', input.protect) : null,
    threshold !== undefined && threshold !== null && !(threshold >= 0 && threshold <= 1) ? 'captcha.threshold must be between 0 and 1' : null,
    typeof input.secret === 'string' && input.secret.length > 1000 ? 'captcha.secret must be at most 1000 characters' : null,
    provider && !hasSecret ? 'captcha.secret is required when captcha.provider is set' : null,
  )
}

function rateLimitsProblem(input: NonNullable<TenantConfigInput['rateLimits']>): Check {
  for (const name of RATE_LIMIT_NAMES) {
    const window = input[name]
    if (window === undefined) continue
    const problem = window === null ? `rateLimits.${name} cannot be null` : first(
      notNull(`rateLimits.${name}`, window),
      integerIn(`rateLimits.${name}.limit`, window.limit, 0, 1_000_000),
      intervalIn(`rateLimits.${name}.window`, window.window, SECOND, DAY, 'between PT1S and P1D'),
    )
    if (problem) return problem
  }
  return null
}

export function configProblem(input: TenantConfigInput, current: TenantConfig, config: Config): Check {
  const sections = Object.entries(input).filter(([, value]) => value === null).map(([key]) => key)
  if (sections.length > 0) return `${sections[0]} cannot be null`
  return first(
    input.signup ? notNull('signup', input.signup) : null,
    input.emailChange ? notNull('emailChange', input.emailChange) : null,
    input.passwordless ? passwordlessProblem(input.passwordless) : null,
    input.password ? passwordProblem(input.password, config) : null,
    input.login ? loginProblem(input.login, current.login) : null,
    input.captcha ? captchaProblem(input.captcha, current.captcha) : null,
    input.rateLimits ? rateLimitsProblem(input.rateLimits) : null,
  )
}
