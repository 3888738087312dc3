/**
 * Starts the real service for a test: a fresh database (embedded PGlite cloned from a migrated
 * template, or a new database on the PostgreSQL server of DATABASE_URL), the real app listening
 * on a loopback port, and known bootstrap tokens. Tests talk to it over HTTP only.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pg from 'pg'
import { loadConfig, type Config } from '../../src/config.js'
import { openDatabase } from '../../src/db/client.js'
import { migrate, migrationsFolder } from '../../src/db/migrate.js'
import { startRuntime, type Runtime } from '../../src/server.js'

export const ROOT_TOKEN = '0000000000000000000000000000000000000000'
export const LOGIN_TOKEN = '1111111111111111111111111111111111111111'
export const ROOT_EMAIL = 'root@example.com'
export const ROOT_PASSWORD = 'root-password-123'
export const TEST_ENCRYPTION_KEY = 'a'.repeat(64)

/** The suite runs on PostgreSQL when DATABASE_URL is set, on embedded PGlite otherwise. */
export const onPostgres = Boolean(process.env.DATABASE_URL)

/** Environment for a test server; cheap argon2 parameters keep hashing real but fast. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    CONTEMBER_ROOT_TOKEN: ROOT_TOKEN,
    CONTEMBER_LOGIN_TOKEN: LOGIN_TOKEN,
    CONTEMBER_ROOT_EMAIL: ROOT_EMAIL,
    CONTEMBER_ROOT_PASSWORD: ROOT_PASSWORD,
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    ...overrides,
  }
}

function migrationsDigest(): string {
  const hash = createHash('sha256')
  for (const file of readdirSync(migrationsFolder).sort()) {
    if (file.endsWith('.sql')) hash.update(file).update(readFileSync(join(migrationsFolder, file)))
  }
  return hash.digest('hex').slice(0, 16)
}

let template: Promise<Blob> | undefined

/** A migrated, empty PGlite data directory, built once per migrations version and cached on disk. */
export function embeddedTemplate(): Promise<Blob> {
  return template ??= (async () => {
    const dir = join(tmpdir(), 'tenant-gateway-test-templates')
    const file = join(dir, `pglite-${migrationsDigest()}.tar`)
    if (existsSync(file)) return new Blob([readFileSync(file)])
    const database = await openDatabase({ dataDir: 'memory://' })
    await migrate(database)
    const blob = await database.dumpDataDir!()
    await database.close()
    mkdirSync(dir, { recursive: true })
    const partial = `${file}.${process.pid}`
    writeFileSync(partial, Buffer.from(await blob.arrayBuffer()))
    renameSync(partial, file)
    return blob
  })()
}

/** One statement on a short-lived connection to the server of DATABASE_URL. */
async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}

/** Creates a fresh, empty database on the server of DATABASE_URL; returns its URL and a dropper. */
export async function createPostgresDatabase(): Promise<{ url: string, drop(): Promise<void> }> {
  const base = new URL(process.env.DATABASE_URL!)
  const name = `tg_test_${randomBytes(6).toString('hex')}`
  await adminQuery(base.toString(), `create database ${name}`)
  const url = new URL(base.toString())
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      await adminQuery(base.toString(), `drop database if exists ${name} with (force)`)
    },
  }
}

export interface TestServer {
  url: string
  runtime: Runtime
  config: Config
  /** Every log line the server wrote (only when captureLogs was asked for). */
  logs: string[]
  close(): Promise<void>
}

export interface TestServerOptions {
  env?: Record<string, string | undefined>
  captureLogs?: boolean
  /** The service's clock (sessions, grace windows, TOTP steps); real time when unset. */
  clock?: () => Date
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  let drop: (() => Promise<void>) | undefined
  const env = testEnv(options.env)
  if (onPostgres && env.DATABASE_URL === undefined) {
    const created = await createPostgresDatabase()
    env.DATABASE_URL = created.url
    drop = created.drop
  }
  const config = loadConfig(env)
  const logs: string[] = []
  const logStream = options.captureLogs
    ? new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done() } })
    : undefined
  const runtime = await startRuntime(config, {
    logStream,
    clock: options.clock,
    loadDataDir: config.databaseUrl ? undefined : await embeddedTemplate(),
  })
  const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url, runtime, config, logs,
    async close() {
      await runtime.close()
      await drop?.()
    },
  }
}
