/**
 * Applies the committed drizzle-kit migrations. On PostgreSQL the whole run is ONE transaction
 * holding a transaction-scoped advisory lock, so that N instances starting together migrate
 * exactly once, also through PgBouncer in transaction-pooling mode (a session lock would be taken
 * on one server connection and released, or not, on another). Same bookkeeping as drizzle's
 * migrator (drizzle.__drizzle_migrations, applied when newer than the last recorded one).
 */
import { fileURLToPath } from 'node:url'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { Database } from './client.js'
import { withoutPoolerFlag } from './client.js'

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
  const migrations = readMigrationFiles({ migrationsFolder })
  const client = postgres(withoutPoolerFlag(databaseUrl), { max: 1, onnotice: () => {}, prepare: false })
  try {
    await client.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`
      await tx.unsafe('create schema if not exists drizzle')
      await tx.unsafe('create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)')
      const [last] = await tx.unsafe('select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1')
      for (const migration of migrations) {
        if (last && Number(last.created_at) >= migration.folderMillis) continue
        for (const statement of migration.sql) if (statement.trim()) await tx.unsafe(statement)
        await tx.unsafe('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [migration.hash, migration.folderMillis])
      }
    })
  } finally {
    await client.end({ timeout: 5 })
  }
}
