/**
 * The singleton tenant configuration (Contember's `config` row), kept as one JSON document in
 * `config.value`. Reads fill in Contember's defaults (passwordless never / no URL / 5 minutes), so
 * a database that never ran `configure` behaves exactly like a fresh Contember.
 */
import { eq, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { tenantConfig } from '../../db/schema.js'

export const CONFIG_POLICIES = ['always', 'never', 'optIn', 'optOut'] as const
export type ConfigPolicy = typeof CONFIG_POLICIES[number]

export interface PasswordlessConfig {
  enabled: ConfigPolicy
  url: string | null
  expirationMinutes: number
}

export interface TenantConfig {
  passwordless: PasswordlessConfig
}

/** A partial update: an omitted field keeps its value, an explicit null is written (Contember). */
export interface TenantConfigInput {
  passwordless?: {
    enabled?: ConfigPolicy | null
    url?: string | null
    expirationMinutes?: number | null
  } | null
}

const SINGLETON = 'singleton'
export const DEFAULT_TENANT_CONFIG: TenantConfig = {
  passwordless: { enabled: 'never', url: null, expirationMinutes: 5 },
}

function withDefaults(stored: Record<string, unknown> | undefined): TenantConfig {
  const passwordless = (stored?.passwordless ?? {}) as Partial<Record<keyof PasswordlessConfig, unknown>>
  const defaults = DEFAULT_TENANT_CONFIG.passwordless
  const enabled = CONFIG_POLICIES.includes(passwordless.enabled as ConfigPolicy) ? passwordless.enabled as ConfigPolicy : defaults.enabled
  return {
    passwordless: {
      enabled,
      url: typeof passwordless.url === 'string' ? passwordless.url : defaults.url,
      expirationMinutes: typeof passwordless.expirationMinutes === 'number' ? passwordless.expirationMinutes : defaults.expirationMinutes,
    },
  }
}

export async function readTenantConfig(db: DbOrTx): Promise<TenantConfig> {
  const [row] = await db.select({ value: tenantConfig.value }).from(tenantConfig).where(eq(tenantConfig.id, SINGLETON)).limit(1)
  return withDefaults(row?.value)
}

/**
 * Applies a partial update inside the caller's transaction and returns the configuration before
 * and after. The row is locked (or created) first, so concurrent updates serialize.
 */
export async function updateTenantConfig(tx: DbOrTx, input: TenantConfigInput, now: Date): Promise<{ before: TenantConfig, after: TenantConfig }> {
  await tx.insert(tenantConfig).values({ id: SINGLETON }).onConflictDoNothing()
  const [row] = await tx.select({ value: tenantConfig.value }).from(tenantConfig).where(eq(tenantConfig.id, SINGLETON)).for('update')
  const before = withDefaults(row?.value)
  const stored = { ...(row?.value ?? {}) } as Record<string, unknown>
  if (input.passwordless) {
    const current = { ...((stored.passwordless ?? {}) as Record<string, unknown>) }
    for (const key of ['enabled', 'url', 'expirationMinutes'] as const) {
      if (input.passwordless[key] !== undefined) current[key] = input.passwordless[key]
    }
    stored.passwordless = current
  }
  await tx.update(tenantConfig).set({ value: sql`${JSON.stringify(stored)}::jsonb`, updatedAt: now }).where(eq(tenantConfig.id, SINGLETON))
  return { before, after: withDefaults(stored) }
}
