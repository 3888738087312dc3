/**
 * The bounds, served by a bare Fastify (no logger, no plugins) in its own process:
 *   P0  GET /p0          a small JSON, nothing else
 *   P1  GET /p1          one primary-key select through our driver and pool (src/db/client.ts: pg),
 *                        as the hot paths issue it: a Drizzle query prepared once under a name
 *       GET /p1-raw      the same select through postgres.js directly, same pool size: the driver we
 *                        left, kept as the comparison (the only use of the `postgres` devDependency)
 *       GET /p1-pg       the same select through node-postgres (pg) with a named prepared statement
 *       GET /p1-drizzle  the same select built by Drizzle's query builder per request
 *  and, on a second port, P0 with our request logger at info (to /dev/null): what logging costs.
 * Each P1 route rotates over real identity ids so the lookups are not one hot row.
 */
import Fastify, { LogController } from 'fastify'
import pg from 'pg'
import postgres from 'postgres'
import { eq } from 'drizzle-orm'
import { openDatabase, sql } from '../src/db/client.js'
import { identity } from '../src/db/schema.js'
import { createLogger } from '../src/http/logger.js'
import { serveParent, rssSampler } from './lib/ipc.js'
import pino from 'pino'

const url = process.env.DATABASE_URL!
const poolMax = Number(process.env.BENCH_POOL_MAX ?? 0) || undefined

const database = await openDatabase({ databaseUrl: url, dataDir: 'unused', maxConnections: poolMax })
const pool = new pg.Pool({ connectionString: url, max: poolMax ?? 10 })
const raw = postgres(url, { max: poolMax ?? 10, onnotice: () => {} })
const ids = (await database.rows<{ id: string }>(sql`select id from identity order by id limit 1000`)).map((r) => r.id)
if (ids.length === 0) throw new Error('no identities seeded')
let n = 0
const nextId = () => ids[n++ % ids.length]

const app = Fastify({ logger: false })
app.get('/p0', async () => ({ hello: 'world' }))
const p1 = database.db.select({ id: identity.id, roles: identity.roles }).from(identity)
  .where(eq(identity.id, sql.placeholder('id'))).prepare('bench_p1')
app.get('/p1', async () => {
  const [row] = await p1.execute({ id: nextId() })
  return row
})
app.get('/p1-raw', async () => {
  const [row] = await raw`select id, roles from identity where id = ${nextId()}`
  return row
})
app.get('/p1-pg', async () => {
  const result = await pool.query({ name: 'p1', text: 'select id, roles from identity where id = $1', values: [nextId()] })
  return result.rows[0]
})
app.get('/p1-drizzle', async () => {
  const [row] = await database.db.select({ id: identity.id, roles: identity.roles }).from(identity).where(eq(identity.id, nextId())).limit(1)
  return row
})
const address = await app.listen({ port: 0, host: '127.0.0.1' })

// Logged as src/app.ts logs: Fastify's two lines per request off, one line written on response.
const logged = Fastify({ loggerInstance: createLogger('info', pino.destination({ dest: '/dev/null', sync: true })), logController: new LogController({ disableRequestLogging: true }) })
logged.addHook('onResponse', async (request, reply) => {
  request.log.info({ req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed')
})
logged.get('/p0', async () => ({ hello: 'world' }))
const loggedAddress = await logged.listen({ port: 0, host: '127.0.0.1' })
const rss = rssSampler()

serveParent({ url: address, loggedUrl: loggedAddress }, {
  rssReset: () => rss.reset(),
  rssPeak: () => rss.peak(),
}, async () => {
  await app.close()
  await logged.close()
  await pool.end()
  await raw.end()
  await database.close()
})
