/**
 * `npm run bench`: every hot path next to this machine's limits, as ratios to bounds measured
 * in the same run (issue 7). Server, bound servers, load generator and argon2 probe each run in
 * their own process on loopback; the database is a fresh `tg_bench_*` on the local PostgreSQL,
 * dropped at the end. Each path is compared with the mean of its bound measured just before and
 * just after it (the machine drifts by ±30 % between runs, and within one when others load it).
 * Flags: --duration=S --warmup=S --connections=N --no-large (skip the 1M-person seed, ~35 s)
 * --only=<row id prefix>,… --pool-sweep (P1 at pool sizes 2..16, both drivers)
 * --profile=<phase> (server CPU profile for phase small|quiet|traefik10k|large, in bench/profiles;
 * summarise with `npx tsx bench/profile-summary.ts <file>`).
 */
import { writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { execSync } from 'node:child_process'
import pg from 'pg'
import { openDatabase } from '../src/db/client.js'
import { migrate } from '../src/db/migrate.js'
import { createPasswordHasher } from '../src/domain/crypto/passwords.js'
import { startChild, type Child } from './lib/ipc.js'
import { machine, table, type Row } from './lib/report.js'
import { analyze, BENCH_PASSWORD, benchEmail, benchTenantId, benchToken, createBenchDatabase, seedMemberships, seedPersons, seedTenants } from './seed.js'
import type { LoadJob, LoadResult, RequestPlan } from './load.js'
import type { Argon2Job, Argon2Result } from './argon2.js'
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
async function drive(url: string, plan: RequestPlan, connections = CONNECTIONS, durationSec = DURATION): Promise<LoadResult> {
  const job: LoadJob = { url, plan, connections, durationSec, warmupSec: WARMUP }
  return load.call<LoadResult>('load', job)
}

/** The server process of the current phase (its RSS is sampled per path). */
let server: { child: Child, phase: string }

type BoundName = 'P0' | 'P1' | 'P2'
interface BoundServers { url: string, loggedUrl: string }
let boundServers: BoundServers
let argon: Child
/** Every measurement of each bound in this run, in order; each path is compared with the mean of the two around it. */
const boundSamples: Record<BoundName, number[]> = { P0: [], P1: [], P2: [] }
const argonJob: Argon2Job = { memoryKib: 19456, timeCost: 2, durationSec: DURATION, concurrency: 4 }
const singleHashMs: number[] = []

async function bound(name: BoundName): Promise<number> {
  let rps: number
  if (name === 'P2') {
    const result = await argon.call<Argon2Result>('measure', argonJob)
    singleHashMs.push(result.singleMs)
    rps = result.rps
  } else {
    rps = (await drive(boundServers.url, { kind: 'static', method: 'GET', path: name === 'P0' ? '/p0' : '/p1' })).rps
  }
  boundSamples[name].push(rps)
  return rps
}

function measured(id: string, label: string, result: LoadResult, versus?: { name: string, rps: number, factor: number }): Row {
  const failures = result.non2xx + result.errors
  const row: Row = { id, label, rps: result.rps, p50: result.p50, p99: result.p99, extra: { statusCodes: result.statusCodes, errors: result.errors } }
  if (versus) {
    row.bound = versus.name
    row.ratio = result.rps / versus.rps
    row.target = `≥ ${versus.factor} × ${versus.name}`
    row.met = row.ratio >= versus.factor
    row.extra!.boundRps = versus.rps
  }
  if (failures > 0) row.note = `${failures} of ${result.requests} failed ${JSON.stringify(result.statusCodes)}`
  rows.push(row)
  log(`${label}: ${result.rps.toFixed(0)} req/s p50 ${result.p50} p99 ${result.p99}${row.ratio ? ` (${row.ratio.toFixed(2)} × ${row.bound} = ${versus!.rps.toFixed(0)})` : ''}`)
  return row
}

const info = (row: Row, note: string) => Object.assign(row, { target: note, met: null })

function unavailable(id: string, label: string, note: string, target?: string): void {
  rows.push({ id, label, rps: null, p50: null, p99: null, target, met: null, note })
  log(`${label}: ${note}`)
}

interface PathSpec { bound: BoundName, factor: number, connections?: number, p99MaxHashes?: number, p99MaxMs?: number }

/**
 * One measured path against the server: probed first (a missing endpoint is reported, not
 * failed), then measured between two measurements of its bound, whose mean it is compared with.
 */
async function path(id: string, label: string, base: string, plan: RequestPlan, spec: PathSpec): Promise<Row | undefined> {
  if (!wanted(id)) return
  const p99Text = spec.p99MaxMs ? `, p99 < ${spec.p99MaxMs} ms` : spec.p99MaxHashes ? `, p99 ≤ ${spec.p99MaxHashes} × 1 hash` : ''
  const target = `≥ ${spec.factor} × ${spec.bound}${p99Text}`
  const problem = await probe(base, plan)
  if (problem) return void unavailable(id, label, problem, target)
  const hashesBefore = singleHashMs.length
  const before = await bound(spec.bound)
  const rssStart = await server.child.call<number>('rssReset')
  const result = await drive(base, plan, spec.connections)
  const rss = await server.child.call<number>('rssPeak')
  rssPeaks[server.phase] = Math.max(rssPeaks[server.phase] ?? 0, rss)
  const after = await bound(spec.bound)
  const row = measured(id, label, result, { name: spec.bound, rps: (before + after) / 2, factor: spec.factor })
  row.target = target
  row.extra!.rssPeakMB = Math.round(rss / 2 ** 20)
  row.extra!.rssStartMB = Math.round(rssStart / 2 ** 20)
  const notes: string[] = []
  if (spec.connections) notes.push(`c=${spec.connections}`)
  if (result.bytesPerResponse > 10_000) notes.push(`${(result.bytesPerResponse / 1024).toFixed(0)} KiB per response`)
  let p99Max = spec.p99MaxMs
  if (spec.p99MaxHashes) {
    const recent = singleHashMs.slice(hashesBefore)
    const hashMs = recent.reduce((a, b) => a + b, 0) / recent.length
    p99Max = spec.p99MaxHashes * hashMs
    notes.push(`1 hash ${hashMs.toFixed(1)} ms → p99 limit ${p99Max.toFixed(0)} ms`)
    // With c requests always in flight the mean latency is c / throughput (Little's law): at c above
    // the cores, a p99 of a few hashes is out of reach however fast each request is.
    if (spec.connections && result.rps > 0) notes.push(`mean latency = c / rate = ${(spec.connections / result.rps * 1000).toFixed(0)} ms`)
  }
  if (p99Max !== undefined && row.p99 !== null) row.met = Boolean(row.met) && row.p99 < p99Max
  if (rss >= 250 * 2 ** 20) notes.push(`peak RSS ${(rss / 2 ** 20).toFixed(0)} MB (${(rssStart / 2 ** 20).toFixed(0)} MB before this path)`)
  if (row.note) notes.push(row.note)
  row.note = notes.join('; ') || undefined
  return row
}

/** Sets Contember 2.2's rateLimits.loginPerIp through `configure`; false when that is not available. */
async function configureLoginLimit(base: string, limit: number): Promise<boolean> {
  const response = await fetch(`${base}${GRAPHQL}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ROOT_TOKEN}` },
    body: JSON.stringify({ query: `mutation { configure(config: { rateLimits: { loginPerIp: { limit: ${limit}, window: "PT1M" } } }) { ok } }` }),
  })
  const body = await response.json().catch(() => undefined) as { data?: { configure?: { ok?: boolean } } } | undefined
  return body?.data?.configure?.ok === true
}

/**
 * The per-IP login limiter (in-memory store) switched on with a limit no run reaches, on the
 * path it guards (signIn), against the same path with it off: three alternated rounds of each,
 * medians compared, so that drift of the machine hits both alike.
 */
async function rateLimiterRow(base: string, signIn: RequestPlan, off: Row | undefined): Promise<void> {
  const label = 'GraphQL signIn, loginPerIp limiter on vs off'
  if (!off) return unavailable('ratelimit', label, 'n/a (signIn not measured)', '≤ 5 % drop')
  if (!await configureLoginLimit(base, 0)) return unavailable('ratelimit', label, 'n/a (not implemented)', '≤ 5 % drop')
  const rounds: { off: number, on: number }[] = []
  let last: LoadResult | undefined
  const half = Math.max(2, DURATION / 2)
  try {
    for (let round = 0; round < 3; round++) {
      await configureLoginLimit(base, 0)
      const offRps = (await drive(base, signIn, 4, half)).rps
      await configureLoginLimit(base, 1_000_000)
      last = await drive(base, signIn, 4, half)
      rounds.push({ off: offRps, on: last.rps })
    }
  } finally {
    await configureLoginLimit(base, 0)
  }
  const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]
  const on = median(rounds.map((r) => r.on))
  const offMedian = median(rounds.map((r) => r.off))
  const row = measured('ratelimit', label, { ...last!, rps: on }, { name: 'off', rps: offMedian, factor: 0.95 })
  row.target = '≤ 5 % drop'
  row.note = [`c=4; median of 3 alternated rounds, on/off: ${rounds.map((r) => `${r.on.toFixed(0)}/${r.off.toFixed(0)}`).join(', ')}`, row.note].filter(Boolean).join('; ')
}

function serverEnv(url: string): Record<string, string> {
  return {
    NODE_ENV: 'production', LOG_LEVEL: 'info', DATABASE_URL: url, ENCRYPTION_KEY: 'e'.repeat(64), PORT: '0', HOST: '127.0.0.1',
    CONTEMBER_ROOT_TOKEN: ROOT_TOKEN, CONTEMBER_LOGIN_TOKEN: LOGIN_TOKEN, CONTEMBER_ROOT_EMAIL: 'root@bench.example.com',
    TENANTS_API_KEY: API_KEY, TENANTS_API_REQUEST_SECRET: REQUEST_SECRET,
  }
}

async function withServer<T>(phase: string, url: string, work: (base: string) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const nodeFlags = PROFILE === phase ? ['--cpu-prof', `--cpu-prof-dir=bench/profiles/${ONLY?.join('+') ?? phase}`] : []
  const { child, ready } = await startChild<{ url: string }>('server.ts', { env: { ...serverEnv(url), ...env }, nodeFlags })
  server = { child, phase }
  try {
    return await work(ready.url)
  } finally {
    await child.stop()
  }
}

const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, k) => f(k + 1))

/** The bounds at the start of the run, the driver comparison, and what request logging costs. */
async function boundRows(url: string): Promise<void> {
  const p0 = measured('P0', 'P0 bare Fastify, small JSON', await drive(boundServers.url, { kind: 'static', method: 'GET', path: '/p0' })).rps!
  boundSamples.P0.push(p0)
  const p1Mean = measured('P1', 'P1 Fastify + 1 PK select (pg, our pool)', await drive(boundServers.url, { kind: 'static', method: 'GET', path: '/p1' })).rps!
  boundSamples.P1.push(p1Mean)
  // Driver choice: alternate the drivers a few times, so that drift of the machine hits all alike.
  // "raw" is postgres.js (no Drizzle), the driver we left, kept as the comparison (bench/README.md, Driver);
  // "pg" is node-postgres without Drizzle: it separates the driver from the layer above it.
  const routes = { ours: '/p1', raw: '/p1-raw', pg: '/p1-pg' } as const
  const rounds: Record<keyof typeof routes, number>[] = []
  const last: Partial<Record<keyof typeof routes, LoadResult>> = {}
  for (let round = 0; round < 3; round++) {
    const sample = {} as Record<keyof typeof routes, number>
    for (const [name, route] of Object.entries(routes) as [keyof typeof routes, string][]) {
      last[name] = await drive(boundServers.url, { kind: 'static', method: 'GET', path: route }, CONNECTIONS, Math.max(2, DURATION / 2))
      sample[name] = last[name]!.rps
    }
    rounds.push(sample)
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const ours = median(rounds.map((r) => r.ours))
  const history = rounds.map((r) => `${r.ours.toFixed(0)}/${r.raw.toFixed(0)}/${r.pg.toFixed(0)}`).join(', ')
  info(measured('P1-raw', 'P1 via postgres.js directly (comparison)', { ...last.raw!, rps: median(rounds.map((r) => r.raw)) }, { name: 'P1 (alternated)', rps: ours, factor: 1 }), 'driver choice')
  info(measured('P1-pg', 'P1 via pg directly (named prepared)', { ...last.pg!, rps: median(rounds.map((r) => r.pg)) }, { name: 'P1 (alternated)', rps: ours, factor: 1 }), 'driver choice')
    .note = `medians of 3 alternated rounds, ours/raw postgres.js/pg: ${history}`
  info(measured('P1-drizzle', 'P1 via Drizzle query builder per request', await drive(boundServers.url, { kind: 'static', method: 'GET', path: '/p1-drizzle' }), { name: 'P1', rps: p1Mean, factor: 1 }), 'info')
  info(measured('P0-logged', 'P0 with our pino logger at info', await drive(boundServers.loggedUrl, { kind: 'static', method: 'GET', path: '/p0' }), { name: 'P0', rps: p0, factor: 1 }), 'info')
  if (args.has('pool-sweep')) {
    for (const size of [2, 4, 8, 16]) {
      const { child, ready } = await startChild<BoundServers>('bounds-server.ts', { env: { DATABASE_URL: url, BENCH_POOL_MAX: String(size) } })
      try {
        info(measured(`P1-pool${size}`, `P1 with pool max ${size}`, await drive(ready.url, { kind: 'static', method: 'GET', path: '/p1' }), { name: 'P1', rps: p1Mean, factor: 1 }), 'info')
        info(measured(`P1-pg-pool${size}`, `P1 via pg, pool max ${size}`, await drive(ready.url, { kind: 'static', method: 'GET', path: '/p1-pg' }), { name: 'P1', rps: p1Mean, factor: 1 }), 'info')
      } finally {
        await child.stop()
      }
    }
  }
  const p2 = await argon.call<Argon2Result>('measure', argonJob)
  boundSamples.P2.push(p2.rps)
  singleHashMs.push(p2.singleMs)
  rows.push({ id: 'P2', label: `P2 argon2id verify (19456 KiB, t=2), ${p2.cores} cores`, rps: p2.rps, p50: null, p99: null, note: `one verify alone: ${p2.singleMs.toFixed(1)} ms; ${p2.concurrency} in flight` })
  log(`P2: ${p2.rps.toFixed(1)} verifies/s, single ${p2.singleMs.toFixed(1)} ms`)
}

/** Other work on the machine (e.g. test suites of other checkouts) skews every figure: recorded with them. */
const loadAverageAtStart = loadavg().map((l) => +l.toFixed(1))

async function main(): Promise<void> {
  ensurePostgres()
  const database = await createBenchDatabase(ADMIN_URL)
  log(`database ${database.name}`)
  const sql = new pg.Pool({ connectionString: database.url, max: 2 })
  const children: Child[] = []
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
    load = (await startChild('load.ts')).child
    argon = (await startChild('argon2.ts')).child
    const bounds = await startChild<BoundServers>('bounds-server.ts', { env: { DATABASE_URL: database.url } })
    children.push(load, argon, bounds.child)
    boundServers = bounds.ready
    await boundRows(database.url)

    const permanent = range(SMALL.persons, (i) => benchToken('p', i))
    const sessions = range(SMALL.sessions, (i) => benchToken('s', i))
    const tenantPaths = range(SMALL.tenants, (i) => `/_/api/4/tenants/${benchTenantId(i)}`)
    // Traefik's HTTP provider (Go net/http) sends Accept-Encoding: gzip by default, so the bench does too.
    const traefik: RequestPlan = { kind: 'static', method: 'GET', path: '/_/api/4/config/traefik', headers: { 'x-api-key': API_KEY, 'accept-encoding': 'gzip' } }
    const signIn: RequestPlan = { kind: 'signIn', path: GRAPHQL, loginToken: LOGIN_TOKEN, emails: range(SMALL.persons, benchEmail), password: BENCH_PASSWORD }
    const meId: RequestPlan = { kind: 'graphql', path: GRAPHQL, tokens: permanent, query: ME_ID }
    const meSmall = await withServer('small', database.url, async (base) => {
      const me = await path('me-permanent', 'GraphQL me { id }, permanent key', base, meId, { bound: 'P1', factor: 0.5 })
      await path('me-session', 'GraphQL me { id person projects }, session', base, { kind: 'graphql', path: GRAPHQL, tokens: sessions, query: ME_FULL }, { bound: 'P1', factor: 0.35 })
      await path('rest-legacy', 'REST GET /tenants/{id}, legacy signature', base, { kind: 'signed', form: 'legacy', paths: tenantPaths, apiKey: API_KEY, secret: REQUEST_SECRET }, { bound: 'P1', factor: 0.6 })
      await path('rest-strong', 'REST GET /tenants/{id}, strong t=,v1= signature', base, { kind: 'signed', form: 'strong', paths: tenantPaths, apiKey: API_KEY, secret: REQUEST_SECRET }, { bound: 'P1', factor: 0.6 })
      await path('traefik-1k', 'GET /config/traefik, 1 000 tenants (gzip)', base, traefik, { bound: 'P0', factor: 0.5, p99MaxMs: 50 })
      const off = await path('signIn', 'GraphQL signIn', base, signIn, { bound: 'P2', factor: 0.8, connections: 4, p99MaxHashes: 3 })
      if (wanted('ratelimit')) await rateLimiterRow(base, signIn, off)
      return me
    })
    if (wanted('me-quiet')) {
      // Diagnosis: the same `me` with per-request logging below the level (what pino's work costs).
      await withServer('quiet', database.url, (base) => path('me-quiet', 'GraphQL me { id }, LOG_LEVEL=warn (diagnosis)', base, meId, { bound: 'P1', factor: 0.5 }), { LOG_LEVEL: 'warn' })
    }

    if (wanted('traefik-10k')) {
      await timed('seed tenants to 10 000', async () => { await seedTenants(sql, SMALL.tenants + 1, MEDIUM_TENANTS); await analyze(sql) })
      await withServer('traefik10k', database.url, (base) => path('traefik-10k', 'GET /config/traefik, 10 000 tenants (gzip)', base, traefik, { bound: 'P0', factor: 0.5, p99MaxMs: 50 }))
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
      // Keys spread through the whole table, not just the first thousand rows.
      const spread = range(1000, (k) => benchToken('p', k * (LARGE_SIZE.persons / 1000)))
      const large = await withServer('large', database.url, (base) => path('me-large', 'GraphQL me { id }, 1M persons / 100k tenants', base,
        { kind: 'graphql', path: GRAPHQL, tokens: spread, query: ME_ID }, { bound: 'P1', factor: 0.5 }))
      if (large?.ratio && meSmall?.ratio) {
        // The data-size rule compares ratios to P1, so that drift of the machine between the two cancels out.
        const change = large.ratio / meSmall.ratio - 1
        large.target = 'within 10 % of small'
        large.met = change >= -0.1
        large.note = `${(change * 100).toFixed(0)} % vs the small database (${meSmall.ratio.toFixed(2)} × P1)${large.note ? `; ${large.note}` : ''}`
      }
    }
  } finally {
    for (const child of children) await child.stop()
    await sql.end()
    await database.drop()
  }

  const rssMax = Math.max(0, ...Object.values(rssPeaks))
  rows.push({ id: 'rss', label: 'peak RSS of the server under load', rps: null, p50: null, p99: null, target: '< 250 MB', met: rssMax < 250 * 2 ** 20, note: `${(rssMax / 2 ** 20).toFixed(0)} MB (${Object.entries(rssPeaks).map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(0)}`).join(', ')})` })
  const report = { date: new Date().toISOString(), machine: { ...machine(), loadAverageAtStart, loadAverageAtEnd: loadavg().map((l) => +l.toFixed(1)) }, options: { duration: DURATION, warmup: WARMUP, connections: CONNECTIONS, large: LARGE, cores: availableParallelism() }, timings, rssPeaks, boundSamples, singleHashMs, rows }
  writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(report, null, 2) + '\n')
  process.stdout.write(`\n${table(rows)}\n\nmachine: ${JSON.stringify(report.machine)}\nseeding: ${JSON.stringify(timings)}\n`)
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
