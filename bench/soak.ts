/**
 * Diagnosis (`npx tsx bench/soak.ts [rounds]`): does the service hold its throughput under
 * sustained load? One long-lived server on a seeded database, rounds of 4 s each of `me { id }`,
 * the session `me { id person projects }` and signed REST GET /tenants/{id} at 50 connections;
 * prints req/s per round. `npm run bench` starts a fresh server per phase and cannot see decay
 * that sets in after a minute (postgres.js did, bench/README.md "Driver").
 */
import pg from 'pg'
import { openDatabase } from '../src/db/client.js'
import { migrate } from '../src/db/migrate.js'
import { createPasswordHasher } from '../src/domain/crypto/passwords.js'
import { analyze, BENCH_PASSWORD, benchTenantId, benchToken, createBenchDatabase, seedMemberships, seedPersons, seedTenants } from './seed.js'
import { startChild } from './lib/ipc.js'
import type { LoadResult, RequestPlan } from './load.js'

const ROUNDS = Number(process.argv[2] ?? 10)
const API_KEY = 'bench-api-key-' + 'c'.repeat(40)
const REQUEST_SECRET = 'bench-request-secret'

const database = await createBenchDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
try {
  const db = await openDatabase({ databaseUrl: database.url, dataDir: 'unused', maxConnections: 1 })
  await migrate(db, database.url)
  await db.close()
  const sql = new pg.Pool({ connectionString: database.url, max: 2 })
  await seedPersons(sql, 1, 1000, await createPasswordHasher({ memoryKib: 19456, timeCost: 2 }).hash(BENCH_PASSWORD), 1000)
  await seedTenants(sql, 1, 1000)
  await seedMemberships(sql, 1000, 1000, 3)
  await analyze(sql)
  await sql.end()

  const range = (f: (i: number) => string) => Array.from({ length: 1000 }, (_, k) => f(k + 1))
  const plans: Record<string, RequestPlan> = {
    'me { id }': { kind: 'graphql', path: '/tenant', tokens: range((i) => benchToken('p', i)), query: '{ me { id } }' },
    'me session': { kind: 'graphql', path: '/tenant', tokens: range((i) => benchToken('s', i)), query: '{ me { id person { email } projects { project { slug } } } }' },
    'REST tenant': { kind: 'signed', form: 'legacy', paths: range((i) => `/_/api/4/tenants/${benchTenantId(i)}`), apiKey: API_KEY, secret: REQUEST_SECRET },
  }
  const load = (await startChild('load.ts')).child
  const server = await startChild<{ url: string }>('server.ts', {
    env: {
      NODE_ENV: 'production', LOG_LEVEL: 'info', DATABASE_URL: database.url, ENCRYPTION_KEY: 'e'.repeat(64), PORT: '0', HOST: '127.0.0.1',
      CONTEMBER_ROOT_TOKEN: 'a'.repeat(40), CONTEMBER_LOGIN_TOKEN: 'b'.repeat(40), CONTEMBER_ROOT_EMAIL: 'root@bench.example.com',
      TENANTS_API_KEY: API_KEY, TENANTS_API_REQUEST_SECRET: REQUEST_SECRET,
    },
  })
  try {
    console.log(`round  ${Object.keys(plans).join('  ')}  (req/s, 4 s each)`)
    for (let round = 0; round < ROUNDS; round++) {
      const rps: string[] = []
      for (const plan of Object.values(plans)) {
        const result = await load.call<LoadResult>('load', { url: server.ready.url, plan, connections: 50, durationSec: 4, warmupSec: 0 })
        rps.push(result.rps.toFixed(0))
      }
      console.log(round, rps.join('  '))
    }
  } finally {
    await server.child.stop()
    await load.stop()
  }
} finally {
  await database.drop()
}
