/**
 * `npm run test:reliability`: runs tests/reliability/*.rel.ts with Node's test runner, one file
 * at a time (they start their own PostgreSQL, Redis, PgBouncer and server processes), bounded
 * in time, then prints the table of figures the files recorded.
 *   npm run test:reliability                 every part
 *   npm run test:reliability -- faults nodes  only files whose name contains one of the words
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIR = join(ROOT, 'tests', 'reliability')
/** The whole run's bound; CI wraps it in `timeout` as well. */
const RUN_BOUND_MS = Number(process.env.RELIABILITY_BOUND_MS ?? 12 * 60_000)

interface Figures {
  part: string
  inputs?: number
  faultsInjected?: number
  faultsSurvived?: number
  requestsLost?: number
  rowsInconsistent?: number
  securityCases?: number
  securityPassed?: number
  notes?: string[]
}

const filters = process.argv.slice(2)
const files = readdirSync(DIR).filter((f) => f.endsWith('.rel.ts')).sort()
  .filter((f) => filters.length === 0 || filters.some((word) => f.includes(word)))
  .map((f) => join('tests', 'reliability', f))
if (files.length === 0) {
  process.stderr.write(`no reliability files match ${filters.join(' ')}\n`)
  process.exit(2)
}

const work = mkdtempSync(join(tmpdir(), 'tg-reliability-'))
const figuresFile = join(work, 'figures.jsonl')
// The suite brings its own databases: never the machine's (or CI's) DATABASE_URL.
const env: NodeJS.ProcessEnv = { ...process.env, RELIABILITY_FIGURES: figuresFile }
delete env.DATABASE_URL
delete env.REDIS_URL

const started = Date.now()
const child = spawn(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=240000', ...files,
], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
let tap = ''
child.stdout!.on('data', (chunk: Buffer) => {
  tap += chunk
  process.stdout.write(chunk)
})
const timer = setTimeout(() => {
  process.stderr.write(`\nreliability: run exceeded ${RUN_BOUND_MS} ms; stopping it\n`)
  try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ }
}, RUN_BOUND_MS)
const code: number = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))))
clearTimeout(timer)

const rows: Figures[] = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Figures)
  : []
rmSync(work, { recursive: true, force: true })

const sum = (key: keyof Figures) => rows.reduce((total, row) => total + (Number(row[key]) || 0), 0)
const cell = (value: number | undefined) => (value === undefined ? '-' : String(value))
const header = ['part', 'inputs', 'faults', 'survived', 'lost', 'inconsistent', 'security']
const table = rows.map((row) => [
  row.part, cell(row.inputs), cell(row.faultsInjected), cell(row.faultsSurvived), cell(row.requestsLost), cell(row.rowsInconsistent),
  row.securityCases === undefined ? '-' : `${row.securityPassed}/${row.securityCases}`,
])
table.push(['TOTAL', String(sum('inputs')), String(sum('faultsInjected')), String(sum('faultsSurvived')), String(sum('requestsLost')),
  String(sum('rowsInconsistent')), `${sum('securityPassed')}/${sum('securityCases')}`])
const widths = header.map((_, i) => Math.max(header[i].length, ...table.map((r) => r[i].length)))
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`

const passed = Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0)
const failed = Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(tap)?.[1] ?? 0)
const out = [
  '', `Reliability and security figures (${files.length} files, ${Math.round((Date.now() - started) / 1000)} s)`,
  line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.map(line), '',
  ...rows.flatMap((row) => (row.notes ?? []).map((note) => `- ${row.part}: ${note}`)),
  '', `Requests lost: ${sum('requestsLost')}; rows left inconsistent: ${sum('rowsInconsistent')} (both must be 0).`,
  `reliability: ${passed} passed, ${failed} failed`, '',
]
process.stdout.write(out.join('\n'))
const figuresOk = sum('requestsLost') === 0 && sum('rowsInconsistent') === 0
process.exit(code !== 0 || !figuresOk ? 1 : 0)
