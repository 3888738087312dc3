/**
 * `npm run bench`: every hot path next to this machine's limits, as ratios to bounds measured
 * in the same run (issue 7). Server, bound servers, load generator and argon2 probe each run in
 * their own process on loopback; the database is a fresh `tg_bench_*` on the local PostgreSQL,
 * dropped at the end. Flags: --duration=S --warmup=S --connections=N --no-large --only=id,id
 * --profile=<phase> (cpu profile of the server in phase small|traefik10k|large, in bench/profiles)
 * --pool-sweep (P1 at several pool sizes).
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { execSync } from 'node:child_process'
import postgres from 'postgres'
import { openDatabase } from '../src/db/client.js'
import { migrate } from '../src/db/migrate.js'
import { createPasswordHasher } from '../src/domain/crypto/passwords.js'
import { startChild, type Child } from './lib/ipc.js'
import { machine, table, type Row } from './lib/report.js'
import { analyze, BENCH_PASSWORD, benchEmail, benchTenantId, benchToken, createBenchDatabase, seedMemberships, seedPersons, seedTenants } from './seed.js'
import type { LoadJob, LoadResult, RequestPlan } from './load.js'
import type { Argon2Result } from './argon2.js'
import { probe } from './probe.js'

const args = new Map(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k, v ?? 'true'] }))
const DURATION = Number(args.get('duration') ?? 5)
const WARMUP = Number(args.get('warmup') ?? 1)
const CONNECTIONS = Number(args.get('connections') ?? 50)
const LARGE = args.get('no-large') === undefined
const ONLY = args.get('only')?.split(',')
const PROFILE = args.get('profile')
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

const SMALL = { persons: 1000, tenants: 1000, sessions: 1000 }
const MEDIUM_TENANTS = 10_000
const LARGE_SIZE = { persons: 1_000_000, tenants: 100_000 }

const ROOT_TOKEN = 'a'.repeat(40)
const LOGIN_TOKEN = 'b'.repeat(40)
const API_KEY = 'bench-api-key-' + 'c'.repeat(40)
const REQUEST_SECRET = 'bench-request-secret'
const GRAPHQL = '/tenant'
const ME_ID = '{ me { id } }'
const ME_FULL = '{ me { id person { email } projects { project { slug } } } }'

const rows: Row[] = []
const timings: Record<string, number> = {}
const rssPeaks: Record<string, number> = {}
const wanted = (id: string) => !ONLY || ONLY.some((o) => id.startsWith(o))
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)

function ensurePostgres(): void {
  try {
    execSync('pg_isready -h 127.0.0.1 -p 5432', { stdio: 'ignore' })
  } catch {
    log('starting the local PostgreSQL cluster')
    execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', { stdio: 'inherit', shell: '/bin/bash' })
  }
}

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now()
  const result = await work()
  timings[name] = Math.round(performance.now() - start) / 1000
  log(`${name}: ${timings[name]} s`)
  return result
}

let load: Child
async function drive(url: string, plan: RequestPlan, connections = CONNECTIONS): Promise<LoadResult> {
  const job: LoadJob = { url, plan, connections, durationSec: DURATION, warmupSec: WARMUP }
  return load.call<LoadResult>('load', job)
}

function measured(id: string, label: string, result: LoadResult, bound?: { name: string, rps: number | null, factor: number }, extra: Partial<Row> = {}): Row {
  const failures = result.non2xx + result.errors
  const row: Row = { id, label, rps: result.rps, p50: result.p50, p99: result.p99, extra: { statusCodes: result.statusCodes, errors: result.errors } }
  if (bound && bound.rps) {
    row.bound = bound.name
    row.ratio = result.rps / bound.rps
    row.target = `≥ ${bound.factor} × ${bound.name}`
    row.met = row.ratio >= bound.factor
  }
  if (failures > 0) row.note = `${failures} of ${result.requests} failed ${JSON.stringify(result.statusCodes)}`
  Object.assign(row, extra)
  rows.push(row)
  log(`${label}: ${result.rps.toFixed(0)} req/s p50 ${result.p50} p99 ${result.p99}${row.ratio ? ` (${row.ratio.toFixed(2)} × ${row.bound})` : ''}`)
  return row
}

function unavailable(id: string, label: string, note: string, target?: string): void {
  rows.push({ id, label, rps: null, p50: null, p99: null, target, met: null, note })
  log(`${label}: ${note}`)
}

function serverEnv(url: string): Record<string, string> {
  return {
    NODE_ENV: 'production', LOG_LEVEL: 'info', DATABASE_URL: url, ENCRYPTION_KEY: 'e'.repeat(64), PORT: '0', HOST: '127.0.0.1',
    CONTEMBER_ROOT_TOKEN: ROOT_TOKEN, CONTEMBER_LOGIN_TOKEN: LOGIN_TOKEN, CONTEMBER_ROOT_EMAIL: 'root@bench.example.com',
    TENANTS_API_KEY: API_KEY, TENANTS_API_REQUEST_SECRET: REQUEST_SECRET,
  }
}

async function withServer<T>(phase: string, url: string, work: (base: string) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const nodeFlags = PROFILE === phase ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : []
  const { child, ready } = await startChild<{ url: string }>('server.ts', { env: { ...serverEnv(url), ...env }, nodeFlags })
  try {
    await child.call('rssReset')
    const result = await work(ready.url)
    rssPeaks[phase] = await child.call<number>('rssPeak')
    return result
  } finally {
    await child.stop()
  }
}

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, k) => f(k + 1))

async function measureBounds(url: string): Promise<{ p0: number, p1: number }> {
  const { child, ready } = await startChild<{ url: string }>('bounds-server.ts', { env: { DATABASE_URL: url } })
  try {
    const p0 = measured('P0', 'P0 bare Fastify, small JSON', await drive(ready.url, { kind: 'static', method: 'GET', path: '/p0' }))
    const p1 = measured('P1', 'P1 Fastify + 1 PK select (postgres.js, our pool)', await drive(ready.url, { kind: 'static', method: 'GET', path: '/p1' }))
    measured('P1-pg', 'P1 via pg (node-postgres, named prepared)', await drive(ready.url, { kind: 'static', method: 'GET', path: '/p1-pg' }), { name: 'P1', rps: p1.rps, factor: 1 }, { target: 'driver choice', met: null })
    measured('P1-drizzle', 'P1 via Drizzle query builder', await drive(ready.url, { kind: 'static', method: 'GET', path: '/p1-drizzle' }), { name: 'P1', rps: p1.rps, factor: 1 }, { target: 'info', met: null })
    rssPeaks.bounds = await child.call<number>('rssPeak')
    return { p0: p0.rps!, p1: p1.rps! }
  } finally {
    await child.stop()
  }
}

async function poolSweep(url: string, p1: number): Promise<void> {
  for (const size of [2, 4, 8, 16]) {
    const { child, ready } = await startChild<{ url: string }>('bounds-server.ts', { env: { DATABASE_URL: url, BENCH_POOL_MAX: String(size) } })
    try {
      measured(`P1-pool${size}`, `P1 with pool max ${size}`, await drive(ready.url, { kind: 'static', method: 'GET', path: '/p1' }), { name: 'P1', rps: p1, factor: 1 }, { target: 'info', met: null })
      measured(`P1-pg-pool${size}`, `P1 via pg with pool max ${size}`, await drive(ready.url, { kind: 'static', method: 'GET', path: '/p1-pg' }), { name: 'P1', rps: p1, factor: 1 }, { target: 'info', met: null })
    } finally {
      await child.stop()
    }
  }
}

async function measureArgon2(): Promise<Argon2Result> {
  const { child } = await startChild('argon2.ts')
  try {
    const result = await child.call<Argon2Result>('measure', { memoryKib: 19456, timeCost: 2, durationSec: DURATION, concurrency: 4 })
    rows.push({ id: 'P2', label: `P2 argon2id verify (19456 KiB, t=2), ${result.cores} cores`, rps: result.rps, p50: result.singleMs, p99: null, note: `one verify alone: ${result.singleMs.toFixed(1)} ms` })
    log(`P2: ${result.rps.toFixed(1)} verifies/s, single ${result.singleMs.toFixed(1)} ms`)
    return result
  } finally {
    await child.stop()
  }
}

/** One measured path against the server: probed first, so a missing endpoint is reported, not failed. */
async function path(id: string, label: string, base: string, plan: RequestPlan, bound: { name: string, rps: number | null, factor: number }, options: { connections?: number, p99Max?: number } = {}): Promise<Row | undefined> {
  if (!wanted(id)) return
  const target = `≥ ${bound.factor} × ${bound.name}${options.p99Max ? `, p99 < ${options.p99Max.toFixed(0)} ms` : ''}`
  const problem = await probe(base, plan)
  if (problem) return void unavailable(id, label, problem, target)
  const row = measured(id, label, await drive(base, plan, options.connections), bound)
  if (options.p99Max !== undefined && row.p99 !== null) {
    row.target = target
    row.met = Boolean(row.met) && row.p99 < options.p99Max
  }
  if (options.connections) row.note = [`c=${options.connections}`, row.note].filter(Boolean).join('; ')
  return row
}

async function main(): Promise<void> {
  ensurePostgres()
  const database = await createBenchDatabase(ADMIN_URL)
  log(`database ${database.name}`)
  load = (await startChild('load.ts')).child
  const sql = postgres(database.url, { max: 2, onnotice: () => {} })
  try {
    await timed('migrate', async () => {
      const db = await openDatabase({ databaseUrl: database.url, dataDir: 'unused', maxConnections: 1 })
      await migrate(db, database.url)
      await db.close()
    })
    const passwordHash = await createPasswordHasher({ memoryKib: 19456, timeCost: 2 }).hash(BENCH_PASSWORD)
    await timed('seed small (1 000 persons, 1 000 tenants)', async () => {
      await seedPersons(sql, 1, SMALL.persons, passwordHash, SMALL.sessions)
      await seedTenants(sql, 1, SMALL.tenants)
      await seedMemberships(sql, SMALL.persons, SMALL.tenants, 3)
      await analyze(sql)
    })

    const { p0, p1 } = await measureBounds(database.url)
    if (args.has('pool-sweep')) await poolSweep(database.url, p1)
    const p2 = await measureArgon2()

    const permanent = range(SMALL.persons, (i) => benchToken('p', i))
    const sessions = range(SMALL.sessions, (i) => benchToken('s', i))
    const tenantPaths = range(SMALL.tenants, (i) => `/_/api/4/tenants/${benchTenantId(i)}`)
    const traefik: RequestPlan = { kind: 'static', method: 'GET', path: '/_/api/4/config/traefik', headers: { 'x-api-key': API_KEY } }
    const signIn: RequestPlan = { kind: 'signIn', path: GRAPHQL, loginToken: LOGIN_TOKEN, emails: range(SMALL.persons, benchEmail), password: BENCH_PASSWORD }
    const meSmall = await withServer('small', database.url, async (base) => {
      const me = await path('me-permanent', 'GraphQL me { id }, permanent key', base, { kind: 'graphql', path: GRAPHQL, tokens: permanent, query: ME_ID }, { name: 'P1', rps: p1, factor: 0.5 })
      await path('me-session', 'GraphQL me { id person projects }, session', base, { kind: 'graphql', path: GRAPHQL, tokens: sessions, query: ME_FULL }, { name: 'P1', rps: p1, factor: 0.35 })
      await path('rest-legacy', 'REST GET /tenants/{id}, legacy signature', base, { kind: 'signed', form: 'legacy', paths: tenantPaths, apiKey: API_KEY, secret: REQUEST_SECRET }, { name: 'P1', rps: p1, factor: 0.6 })
      await path('rest-strong', 'REST GET /tenants/{id}, strong t=,v1= signature', base, { kind: 'signed', form: 'strong', paths: tenantPaths, apiKey: API_KEY, secret: REQUEST_SECRET }, { name: 'P1', rps: p1, factor: 0.6 })
      await path('traefik-1k', 'GET /config/traefik, 1 000 tenants', base, traefik, { name: 'P0', rps: p0, factor: 0.5 }, { p99Max: 50 })
      await path('signIn', 'GraphQL signIn', base, signIn, { name: 'P2', rps: p2.rps, factor: 0.8 }, { connections: 4, p99Max: 3 * p2.singleMs })
      return me
    })
    if (wanted('ratelimit')) unavailable('ratelimit', 'rate limiter on vs off', 'n/a (not implemented)', '≤ 5 % drop')

    if (wanted('traefik-10k')) {
      await timed('seed tenants to 10 000', async () => { await seedTenants(sql, SMALL.tenants + 1, MEDIUM_TENANTS); await analyze(sql) })
      await withServer('traefik10k', database.url, (base) => path('traefik-10k', 'GET /config/traefik, 10 000 tenants', base, traefik, { name: 'P0', rps: p0, factor: 0.5 }, { p99Max: 50 }))
    }

    if (LARGE && wanted('me-large')) {
      await timed('seed large (to 1 000 000 persons, 100 000 tenants)', async () => {
        const tenantsFrom = wanted('traefik-10k') ? MEDIUM_TENANTS + 1 : SMALL.tenants + 1
        for (let from = SMALL.persons + 1; from <= LARGE_SIZE.persons; from += 250_000) {
          await seedPersons(sql, from, Math.min(from + 249_999, LARGE_SIZE.persons), passwordHash)
        }
        await seedTenants(sql, tenantsFrom, LARGE_SIZE.tenants)
        await analyze(sql)
      })
      // Rotate over keys spread through the whole table, not just the first thousand rows.
      const spread = range(1000, (k) => benchToken('p', k * (LARGE_SIZE.persons / 1000)))
      await withServer('large', database.url, (base) => path('me-large', 'GraphQL me { id }, 1M persons / 100k tenants', base,
        { kind: 'graphql', path: GRAPHQL, tokens: spread, query: ME_ID }, { name: 'me small', rps: meSmall?.rps ?? null, factor: 0.9 }))
    }
  } finally {
    await sql.end()
    await load.stop()
    await database.drop()
  }

  const rssMax = Math.max(...Object.entries(rssPeaks).filter(([k]) => k !== 'bounds').map(([, v]) => v))
  rows.push({ id: 'rss', label: 'peak RSS of the server under load', rps: null, p50: null, p99: null, target: '< 250 MB', met: rssMax < 250 * 2 ** 20, note: `${(rssMax / 2 ** 20).toFixed(0)} MB (${Object.entries(rssPeaks).map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(0)}`).join(', ')})` })
  const report = { date: new Date().toISOString(), machine: machine(), options: { duration: DURATION, warmup: WARMUP, connections: CONNECTIONS, large: LARGE, uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)', cores: availableParallelism() }, timings, rssPeaks, rows }
  mkdirSync(new URL('.', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(report, null, 2) + '\n')
  process.stdout.write(`\n${table(rows)}\n\nmachine: ${JSON.stringify(report.machine)}\nseeding: ${JSON.stringify(timings)}\n`)
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
