/**
 * The `tenant-gateway` command (`npm run cli -- <command>`): serve, migrate, tenants API keys,
 * and the tenant/plan commands of Chevereto's tenants CLI. Output is JSON on stdout; errors go to
 * stderr with exit code 1 (2 for bad configuration or usage).
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { openRuntimeDatabase } from './server.js'
import { createDomainContext, type Actor, type DomainContext } from './domain/context.js'
import { DomainError } from './domain/errors.js'
import { createApiKey, deleteApiKey, listApiKeys } from './domain/tenants-api/api-keys.js'
import { createTenant, editTenant, getTenant, listTenants } from './domain/tenants/tenants.js'
import { deleteTenant, restoreTenant } from './domain/tenants/lifecycle.js'
import { createPlan, deletePlan, editPlan, getPlan, listPlans } from './domain/plans/plans.js'

const HELP = `tenant-gateway — identity and tenant plane (Contember Tenant API + Chevereto Tenants API)

Usage: npm run cli -- <command> [options]

Server
  serve                         start the HTTP server (same as npm start)
  migrate                       apply pending database migrations and exit

Tenants API keys (X-API-Key for /_/api/4; needs TENANTS_API_KEY_SECRET)
  api-key:create [--name N] [--expires ISO-8601]   prints the key once: chv_<id>_<64 hex>_<hmac>
  api-key:list                                    id, name, created_at, expires_at (never the key)
  api-key:delete --id N | --name N

Tenants (as Chevereto's app/bin/tenants)
  tenant create --id ID --hostname HOST [--is_enabled 0|1] [--plan_id PLAN] [--limits JSON] [--env JSON]
  tenant get --id ID
  tenant list
  tenant edit --id ID [--hostname HOST] [--is_enabled 0|1] [--plan_id PLAN|""] [--limits JSON|null] [--env JSON|null]
  tenant delete --id ID [--drop-tables]           without --drop-tables the tenant is archived (restorable)
  tenant restore --id ID

Plans
  plan create --id ID [--limits JSON] [--env JSON]
  plan get --id ID
  plan list
  plan edit --id ID [--limits JSON|null] [--env JSON|null]
  plan delete --id ID

Chevereto spellings work too: create, get, list, edit, delete, plan:create, plan:get, plan:list,
plan:edit, plan:delete, api:key:create, api:key:delete.

Configuration comes from the environment (DATABASE_URL or DATA_DIR, ENCRYPTION_KEY,
TENANTS_API_KEY_SECRET, ...), exactly as for the server.
`

const OPTIONS = {
  id: { type: 'string' },
  name: { type: 'string' },
  expires: { type: 'string' },
  hostname: { type: 'string' },
  is_enabled: { type: 'string' },
  'is-enabled': { type: 'string' },
  plan_id: { type: 'string' },
  'plan-id': { type: 'string' },
  limits: { type: 'string' },
  env: { type: 'string' },
  'drop-tables': { type: 'boolean' },
  drop_tables: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS, allowPositionals: true }>>['values']

class UsageError extends Error {}

const ALIASES: Record<string, string> = {
  create: 'tenant:create', get: 'tenant:get', list: 'tenant:list', edit: 'tenant:edit', delete: 'tenant:delete',
  'api:key:create': 'api-key:create', 'api:key:delete': 'api-key:delete', 'api:key:list': 'api-key:list',
}

function commandOf(positionals: string[]): string {
  const [first, second] = positionals
  if ((first === 'tenant' || first === 'plan') && second) return `${first}:${second}`
  return ALIASES[first] ?? first
}

function required(values: Values, name: 'id'): string {
  const value = values[name]
  if (!value) throw new UsageError(`--${name} is required`)
  return value
}

/** `null` (Chevereto's spelling) clears a map; anything else must be a JSON object. */
function jsonMap(raw: string | undefined, option: string): unknown {
  if (raw === undefined) return undefined
  if (raw === 'null') return {}
  try {
    return JSON.parse(raw)
  } catch {
    throw new UsageError(`--${option} must be a JSON object, e.g. '{"CHEVERETO_MAX_USERS":"2"}'`)
  }
}

function flag(raw: string | undefined, option: string): boolean | undefined {
  if (raw === undefined) return undefined
  if (/^(1|true)$/i.test(raw)) return true
  if (/^(0|false)$/i.test(raw)) return false
  throw new UsageError(`--${option} must be 0 or 1`)
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

async function run(command: string, values: Values, ctx: DomainContext): Promise<void> {
  const actor: Actor = { apiKeyName: 'cli' }
  const planId = values.plan_id ?? values['plan-id']
  const isEnabled = flag(values.is_enabled ?? values['is-enabled'], 'is_enabled')
  switch (command) {
    case 'api-key:create': {
      let expiresAt: Date | undefined
      if (values.expires) {
        expiresAt = new Date(values.expires.includes('T') || values.expires.endsWith('Z') ? values.expires : values.expires.replace(' ', 'T') + 'Z')
        if (Number.isNaN(expiresAt.getTime())) throw new UsageError('--expires must be a date, e.g. 2030-01-01T00:00:00Z')
      }
      const { key, info } = await createApiKey(ctx, { name: values.name, expiresAt }, actor)
      process.stderr.write(`API key ${info.id}${info.name ? ` (${info.name})` : ''} created; it is shown only this once:\n`)
      process.stdout.write(key + '\n')
      return
    }
    case 'api-key:list':
      return print((await listApiKeys(ctx)).map((key) => ({ id: key.id, name: key.name, created_at: key.createdAt.toISOString(), expires_at: key.expiresAt?.toISOString() ?? null })))
    case 'api-key:delete': {
      const id = values.id === undefined ? undefined : Number(values.id)
      if (id !== undefined && !Number.isInteger(id)) throw new UsageError('--id must be a number')
      const deleted = await deleteApiKey(ctx, { id, name: values.name }, actor)
      if (deleted === 0) throw new DomainError('not_found', 'API_KEY_NOT_FOUND', 'no such API key')
      return print({ deleted })
    }
    case 'tenant:create':
      return print(await createTenant(ctx, {
        id: required(values, 'id'), hostname: values.hostname, is_enabled: isEnabled ?? false, plan_id: planId,
        limits: jsonMap(values.limits, 'limits'), env: jsonMap(values.env, 'env'),
      }, actor))
    case 'tenant:get':
      return print(await getTenant(ctx, required(values, 'id')))
    case 'tenant:list':
      return print(await listTenants(ctx))
    case 'tenant:edit': {
      const id = required(values, 'id')
      await editTenant(ctx, id, {
        hostname: values.hostname, is_enabled: isEnabled, plan_id: planId,
        limits: jsonMap(values.limits, 'limits'), env: jsonMap(values.env, 'env'),
      }, actor)
      return print(await getTenant(ctx, id))
    }
    case 'tenant:delete': {
      const id = required(values, 'id')
      const dropTables = Boolean(values['drop-tables'] ?? values.drop_tables)
      await deleteTenant(ctx, id, { dropTables }, actor)
      return print({ id, deleted: true, purged: dropTables })
    }
    case 'tenant:restore':
      return print(await restoreTenant(ctx, required(values, 'id'), actor))
    case 'plan:create':
      return print(await createPlan(ctx, { id: required(values, 'id'), limits: jsonMap(values.limits, 'limits'), env: jsonMap(values.env, 'env') }, actor))
    case 'plan:get':
      return print(await getPlan(ctx, required(values, 'id')))
    case 'plan:list':
      return print(await listPlans(ctx))
    case 'plan:edit': {
      const id = required(values, 'id')
      await editPlan(ctx, id, { limits: jsonMap(values.limits, 'limits'), env: jsonMap(values.env, 'env') }, actor)
      return print(await getPlan(ctx, id))
    }
    case 'plan:delete': {
      const id = required(values, 'id')
      await deletePlan(ctx, id, actor)
      return print({ id, deleted: true })
    }
    default:
      throw new UsageError(`unknown command "${command}" (see --help)`)
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    process.stderr.write(`tenant-gateway: ${(error as Error).message}\n\n${HELP}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help || positionals.length === 0 || positionals[0] === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  const command = commandOf(positionals)
  if (command === 'serve') {
    await import('./main.js')
    return -1
  }
  const config = loadConfig()
  const { database, key } = await openRuntimeDatabase(config)
  try {
    if (command === 'migrate') {
      process.stdout.write('migrations applied\n')
      return 0
    }
    await run(command, values, createDomainContext(database, config, key))
    return 0
  } finally {
    await database.close()
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code
}, (error) => {
  if (error instanceof UsageError) {
    process.stderr.write(`tenant-gateway: ${error.message}\n`)
    process.exitCode = 2
  } else if (error instanceof ConfigError) {
    process.stderr.write(`tenant-gateway: invalid configuration: ${error.message}\n`)
    process.exitCode = 2
  } else if (error instanceof DomainError) {
    process.stderr.write(`tenant-gateway: ${error.code}: ${error.message}\n`)
    process.exitCode = 1
  } else {
    process.stderr.write(`tenant-gateway: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  }
})
