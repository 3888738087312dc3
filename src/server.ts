/**
 * Assembles a running service from a Config: encryption key, database, migrations, bootstrap
 * credentials, app. main.ts, the CLI and the tests all start the service through here.
 */
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import { ConfigError, type Config } from './config.js'
import { openDatabase, type Database } from './db/client.js'
import { migrate } from './db/migrate.js'
import { createDomainContext, type DomainContext } from './domain/context.js'
import { loadOrCreateKeyFile } from './domain/crypto/key-file.js'
import { bootstrapCredentials, type BootstrapReport } from './domain/bootstrap/credentials.js'
import { buildApp } from './app.js'
import { startMailDispatcher, type MailDispatcher } from './domain/mail/index.js'

export interface Runtime {
  app: FastifyInstance
  database: Database
  ctx: DomainContext
  bootstrap: BootstrapReport
  /** Delivers mail_outbox rows over SMTP after their transaction commits. */
  mail: MailDispatcher
  /** A key file generated on this start, if any (embedded database without ENCRYPTION_KEY). */
  generatedKeyFile?: string
  close(): Promise<void>
}

export interface RuntimeOptions {
  logStream?: DestinationStream
  /** Embedded only: start from a dumped, already-migrated data directory. */
  loadDataDir?: Blob
  clock?: () => Date
}

export async function openRuntimeDatabase(config: Config, options: RuntimeOptions = {}): Promise<{ database: Database, key: Buffer, generatedKeyFile?: string }> {
  let key = config.encryptionKey
  let generatedKeyFile: string | undefined
  if (!key) {
    if (config.databaseUrl) throw new ConfigError('ENCRYPTION_KEY', 'is required with DATABASE_URL')
    const file = loadOrCreateKeyFile(config.dataDir)
    key = file.key
    if (file.created) generatedKeyFile = file.path
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, loadDataDir: options.loadDataDir })
  try {
    await migrate(database, config.databaseUrl)
  } catch (error) {
    await database.close()
    throw error
  }
  return { database, key, generatedKeyFile }
}

export async function startRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const { database, key, generatedKeyFile } = await openRuntimeDatabase(config, options)
  try {
    const ctx = createDomainContext(database, config, key, options.clock)
    const bootstrap = await bootstrapCredentials(ctx)
    const app = await buildApp({ ctx, logStream: options.logStream })
    const mail = startMailDispatcher(ctx, app.log.child({ component: 'mail' }))
    let closing: Promise<void> | undefined
    return {
      app, database, ctx, bootstrap, mail, generatedKeyFile,
      close: () => (closing ??= (async () => {
        await app.close()
        await mail.close()
        await database.close()
      })()),
    }
  } catch (error) {
    await database.close()
    throw error
  }
}
