/**
 * Applies the committed drizzle-kit migrations. On PostgreSQL under a session advisory lock on a
 * dedicated connection, so that N instances starting together migrate exactly once.
 */
import { fileURLToPath } from 'node:url'
import type { Database } from './client.js'

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url))

/** An arbitrary constant shared by every tenant-gateway process: "tg-migr". */
const MIGRATION_LOCK_KEY = 0x74676d69

export async function migrate(database: Database, databaseUrl?: string): Promise<void> {
  if (database.kind === 'embedded' || !databaseUrl) {
    const { migrate: run } = await import('drizzle-orm/pglite/migrator')
    await run(database.db as never, { migrationsFolder })
    return
  }
  const { default: postgres } = await import('postgres')
  const { drizzle } = await import('drizzle-orm/postgres-js')
  const { migrate: run } = await import('drizzle-orm/postgres-js/migrator')
  const client = postgres(databaseUrl, { max: 1, onnotice: () => {}, prepare: false })
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    try {
      await run(drizzle(client), { migrationsFolder })
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
    }
  } finally {
    await client.end({ timeout: 5 })
  }
}
