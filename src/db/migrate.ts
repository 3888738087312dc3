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
  const { default: pg } = await import('pg')
  const migrations = readMigrationFiles({ migrationsFolder })
  // One connection, unnamed statements only (fine through PgBouncer).
  const client = new pg.Client({ connectionString: withoutPoolerFlag(databaseUrl), connectionTimeoutMillis: 5000, application_name: 'tenant-gateway' })
  // A lost connection is also an 'error' event; the query in flight rejects with it.
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query('begin')
    try {
      await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
      await client.query('create schema if not exists drizzle')
      await client.query('create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)')
      const { rows: [last] } = await client.query<{ created_at: string }>('select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1')
      for (const migration of migrations) {
        if (last && Number(last.created_at) >= migration.folderMillis) continue
        for (const statement of migration.sql) if (statement.trim()) await client.query(statement)
        await client.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [migration.hash, migration.folderMillis])
      }
      await client.query('commit')
    } catch (error) {
      await client.query('rollback').catch(() => {})
      throw error
    }
  } finally {
    await client.end()
  }
}
