/**
 * The only module that knows the database drivers. PostgreSQL through pg (node-postgres) when a
 * URL is given, embedded PGlite in a data directory otherwise; both behind one Drizzle type.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { sql, type SQL } from 'drizzle-orm'
import * as schema from './schema.js'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>
/** A transaction handle has the same query surface as the database. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type DbOrTx = Db | Tx

export interface Database {
  readonly db: Db
  readonly kind: 'postgres' | 'embedded'
  /** Runs raw SQL and returns plain rows, whichever driver is underneath. */
  rows<T = Record<string, unknown>>(query: SQL, on?: DbOrTx): Promise<T[]>
  /** Cheap round trip for readiness checks; rejects when the database is unreachable. */
  ping(): Promise<void>
  close(): Promise<void>
  /** Embedded only: the whole data directory as a tarball (tests clone a migrated template). */
  dumpDataDir?(): Promise<Blob>
}

export interface OpenOptions {
  databaseUrl?: string
  /** Embedded data lives in DATA_DIR/pglite; 'memory://' keeps it in memory. */
  dataDir: string
  /** Embedded only: open from a dumped data directory (tests share one initialised template). */
  loadDataDir?: Blob
  /** PostgreSQL only: the pool's maximum number of connections. */
  maxConnections?: number
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.maxConnections ?? 10) : openEmbedded(options)
}

/**
 * `?pgbouncer=true` is our flag, not a connection parameter: a driver would send it to the server
 * as a startup parameter, which PgBouncer ("unsupported startup parameter") and PostgreSQL both
 * refuse. It is read here and removed from the URL.
 */
export function withoutPoolerFlag(url: string): string {
  const parsed = new URL(url)
  parsed.searchParams.delete('pgbouncer')
  return parsed.toString()
}

export function throughPooler(url: string): boolean {
  return new URL(url).searchParams.get('pgbouncer') === 'true'
}

/**
 * A pg Client that never names a statement. PgBouncer in transaction mode hands each transaction
 * to any server connection, where a statement prepared on another one does not exist; an unnamed
 * statement still goes out as parse/bind/execute in one round trip.
 */
function unnamedStatementsClient(Client: typeof import('pg').Client): typeof import('pg').Client {
  return class UnnamedStatementsClient extends Client {
    override query(config: any, ...rest: any[]): any {
      const named = config !== null && typeof config === 'object' && typeof config.submit !== 'function' && config.name
      return super.query(named ? { ...config, name: undefined } : config, ...rest)
    }
  }
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: pg } = await import('pg')
  const { drizzle } = await import('drizzle-orm/node-postgres')
  const pool = new pg.Pool({
    connectionString: withoutPoolerFlag(url),
    max,
    connectionTimeoutMillis: 5000,
    application_name: 'tenant-gateway',
    // `.prepare('name')` in the domain becomes a named statement, parsed and planned once per connection.
    Client: (throughPooler(url) ? unnamedStatementsClient(pg.Client) : pg.Client) as never,
  })
  // A connection that dies while idle in the pool is reported on the pool, one that dies while
  // checked out (a transaction) on the client; either, unheard, is an 'error' event that ends the
  // process. Its queries reject with the error and the pool discards it on release.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = drizzle(pool, { schema }) as unknown as Db
  let closing: Promise<void> | undefined
  return {
    db,
    kind: 'postgres',
    async rows<T>(query: SQL, on: DbOrTx = db) {
      return ((await on.execute(query)) as unknown as { rows: T[] }).rows
    },
    async ping() {
      await pool.query('select 1')
    },
    close() {
      return (closing ??= pool.end())
    },
  }
}

async function openEmbedded(options: OpenOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  let client
  if (options.loadDataDir) {
    client = await PGlite.create({ loadDataDir: options.loadDataDir })
  } else if (options.dataDir === 'memory://') {
    client = await PGlite.create('memory://')
  } else {
    const dir = join(options.dataDir, 'pglite')
    mkdirSync(dir, { recursive: true })
    client = await PGlite.create(dir)
  }
  const db = drizzle(client, { schema }) as unknown as Db
  let closed = false
  return {
    db,
    kind: 'embedded',
    async rows<T>(query: SQL, on: DbOrTx = db) {
      return ((await on.execute(query)) as unknown as { rows: T[] }).rows
    },
    async ping() {
      if (closed) throw new Error('database closed')
      await client.query('select 1')
    },
    async dumpDataDir() {
      return client.dumpDataDir('none')
    },
    async close() {
      if (closed) return
      closed = true
      await client.close()
    },
  }
}

export { sql }
