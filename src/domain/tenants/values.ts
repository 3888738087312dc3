/**
 * The value rules both surfaces (REST and CLI) share: ids, hostnames, the flat string maps of
 * limits and env, Chevereto's datetime format, and how plan, tenant and enforced values merge.
 */
import { DomainError } from '../errors.js'

/** 1–16 letters, digits, `_` and `-`, starting with a letter or digit (no `@`: Traefik names). */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$'
/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, ≤ 253 chars. */
export const HOSTNAME_PATTERN = '^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$'
const ID = new RegExp(ID_PATTERN)
const HOSTNAME = new RegExp(HOSTNAME_PATTERN)
const MAX_MAP_KEYS = 200
const MAP_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

export type StringMap = Record<string, string>
/** Tenant limits may hold null: a JSON merge-patch that removes the plan's key. */
export type LimitsMap = Record<string, string | null>

export function checkId(value: unknown, field = 'id'): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new DomainError('invalid_input', 'INVALID_ID', `${field} must be 1-16 letters, digits, "_" or "-", starting with a letter or digit`, field)
  }
  return value
}

export function checkHostname(value: unknown, field = 'hostname'): string {
  if (typeof value !== 'string' || !HOSTNAME.test(value)) {
    throw new DomainError('invalid_input', 'INVALID_HOSTNAME', `${field} must be a host name (RFC 1123), e.g. tenant.example.com`, field)
  }
  return value.toLowerCase()
}

/** A flat object of strings (and of nulls where allowNull); anything else names the field. */
export function checkMap(value: unknown, field: string, allowNull = false): LimitsMap {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new DomainError('invalid_input', 'INVALID_MAP', `${field} must be an object of strings`, field)
  }
  const entries = Object.entries(value)
  if (entries.length > MAX_MAP_KEYS) throw new DomainError('invalid_input', 'INVALID_MAP', `${field} has more than ${MAX_MAP_KEYS} keys`, field)
  for (const [key, item] of entries) {
    if (!MAP_KEY.test(key)) throw new DomainError('invalid_input', 'INVALID_MAP', `${field}/${key}: keys must be letters, digits and "_"`, `${field}/${key}`)
    if (typeof item !== 'string' && !(allowNull && item === null)) {
      throw new DomainError('invalid_input', 'INVALID_MAP', `${field}/${key} must be a string`, `${field}/${key}`)
    }
  }
  return value as LimitsMap
}

/** Chevereto's `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatDateTime(date: Date | null | undefined): string | null {
  return date ? date.toISOString().slice(0, 19).replace('T', ' ') : null
}

const LIMIT_KEY = /^(CHEVERETO_)?(TRIAL_)?(MAX|MIN)_/

/** RFC 7396 merge-patch of flat maps: the patch's keys win, a null removes the key. */
export function mergePatch(base: LimitsMap | null | undefined, patch: LimitsMap | null | undefined): StringMap {
  const result: LimitsMap = { ...(base ?? {}) }
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === null) delete result[key]
    else result[key] = value
  }
  for (const key of Object.keys(result)) if (result[key] === null) delete result[key]
  return result as StringMap
}

/** Effective limits: plan, then the tenant's merge-patch, then enforced limit-like keys. */
export function effectiveLimits(plan: LimitsMap | null | undefined, own: LimitsMap | null | undefined, enforced: StringMap): StringMap {
  const merged = mergePatch(plan, own)
  for (const [key, value] of Object.entries(enforced)) if (LIMIT_KEY.test(key)) merged[key] = value
  return sortKeys(merged)
}

/** Effective env: plan, tenant (shallow, tenant wins), then every enforced key. */
export function effectiveEnv(plan: StringMap | null | undefined, own: StringMap | null | undefined, enforced: StringMap): StringMap {
  return sortKeys({ ...(plan ?? {}), ...(own ?? {}), ...enforced })
}

function sortKeys(map: StringMap): StringMap {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Empty maps are stored as NULL, as Chevereto does. */
export function emptyToNull<T extends object>(map: T | undefined | null): T | null {
  return map && Object.keys(map).length > 0 ? map : null
}
