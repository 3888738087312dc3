/**
 * The committed drizzle-kit migrations on both drivers: applied once, a restart is a no-op, every
 * table of src/db/schema.ts exists, and on PostgreSQL three runtimes starting together against
 * one fresh database migrate (and bootstrap) exactly once.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { getTableName, is, sql } from 'drizzle-orm'
import { PgTable } from 'drizzle-orm/pg-core'
import * as schema from '../../src/db/schema.js'
import { openDatabase, type Database } from '../../src/db/client.js'
import { migrate, migrationsFolder } from '../../src/db/migrate.js'
import { loadConfig } from '../../src/config.js'
import { startRuntime } from '../../src/server.js'
import { createPostgresDatabase, testEnv } from '../helpers/server.js'
import { removeDir, tempDir } from './support.js'

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] }
const schemaTables = Object.values(schema).filter((value) => is(value, PgTable)).map((table) => getTableName(table as PgTable)).sort()

interface AppliedMigration { id: number, hash: string, created_at: string }

async function applied(database: Database): Promise<AppliedMigration[]> {
  return database.rows<AppliedMigration>(sql`select id, hash, created_at::text from drizzle.__drizzle_migrations order by id`)
}

async function publicTables(database: Database): Promise<string[]> {
  const rows = await database.rows<{ name: string }>(sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`)
  return rows.map((r) => r.name)
}

async function assertMigratedOnce(database: Database): Promise<AppliedMigration[]> {
  const rows = await applied(database)
  assert.equal(rows.length, journal.entries.length, 'one row per migration in drizzle/meta/_journal.json')
  assert.equal(new Set(rows.map((r) => r.hash)).size, rows.length)
  assert.deepEqual(await publicTables(database), schemaTables)
  return rows
}

test('embedded: migrations apply once on a fresh data directory; reopening and migrating again is a no-op', async () => {
  const dataDir = tempDir('migrate')
  try {
    const first = await openDatabase({ dataDir })
    await migrate(first)
    const before = await assertMigratedOnce(first)
    await migrate(first)
    assert.deepEqual(await applied(first), before)
    await first.close()

    const reopened = await openDatabase({ dataDir })
    try {
      await migrate(reopened)
      assert.deepEqual(await assertMigratedOnce(reopened), before)
    } finally {
      await reopened.close()
    }
  } finally {
    removeDir(dataDir)
  }
})

if (process.env.DATABASE_URL) {
  test('PostgreSQL: migrations apply once; a restart is a no-op', async () => {
    const created = await createPostgresDatabase()
    try {
      const first = await openDatabase({ databaseUrl: created.url, dataDir: 'unused' })
      await migrate(first, created.url)
      const before = await assertMigratedOnce(first)
      await first.close()
      const again = await openDatabase({ databaseUrl: created.url, dataDir: 'unused' })
      try {
        await migrate(again, created.url)
        assert.deepEqual(await assertMigratedOnce(again), before)
      } finally {
        await again.close()
      }
    } finally {
      await created.drop()
    }
  })

  test('PostgreSQL: three runtimes starting at once against one fresh database migrate and bootstrap once', async () => {
    const created = await createPostgresDatabase()
    try {
      const config = loadConfig(testEnv({ DATABASE_URL: created.url }))
      const runtimes = await Promise.all([startRuntime(config), startRuntime(config), startRuntime(config)])
      try {
        await assertMigratedOnce(runtimes[0].database)
        const added = runtimes.map((r) => r.bootstrap.added.join(',')).sort()
        assert.deepEqual(added, ['', '', 'login token,root token,root person'])
        const roles = await runtimes[0].database.rows<{ roles: string, n: number }>(
          sql`select roles::text, count(*)::int as n from identity group by roles order by 1`)
        assert.deepEqual(roles, [{ roles: '["login"]', n: 1 }, { roles: '["super_admin", "person"]', n: 1 }])
      } finally {
        await Promise.all(runtimes.map((r) => r.close()))
      }
    } finally {
      await created.drop()
    }
  })
}
