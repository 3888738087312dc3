/**
 * Disposable infrastructure for the reliability suite, so faults never touch the machine's shared
 * services: our own PostgreSQL cluster (initdb in a temp dir, run as the postgres user when we
 * are root), our own redis-server and PgBouncer, free loopback ports, and the service itself as
 * child processes (`node --import tsx src/main.ts`). Everything started here is stopped by pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const isRoot = process.getuid?.() === 0

function pgBin(name: string): string {
  const base = '/usr/lib/postgresql'
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0]
  return join(base, version, 'bin', name)
}

/** Runs a command as the postgres user when we are root (initdb and postgres refuse root). */
function asPostgres(command: string, args: string[], options: { input?: string } = {}): string {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: options.input, cwd: '/tmp' })
}

function spawnAsPostgres(command: string, args: string[]): ChildProcess {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
  return spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: '/tmp' })
}

function ownedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tg-rel-${prefix}-`))
  chmodSync(dir, 0o755)
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
  }
  return dir
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) { last = error }
    await sleep(everyMs)
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

/** A private PostgreSQL cluster on a free loopback port; stop() and start() are the fault. */
export class PgCluster {
  private constructor(readonly dir: string, readonly port: number) {}

  static async create(): Promise<PgCluster> {
    const dir = ownedTempDir('pg')
    const cluster = new PgCluster(dir, await freePort())
    asPostgres(pgBin('initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'])
    await cluster.start()
    return cluster
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`
  }

  async start(): Promise<void> {
    if (this.running()) return
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`
    asPostgres(pgBin('pg_ctl'), ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-t', '30', '-o', options, 'start'])
  }

  running(): boolean {
    try {
      asPostgres(pgBin('pg_ctl'), ['-D', join(this.dir, 'data'), 'status'])
      return true
    } catch {
      return false
    }
  }

  /** fast: ends sessions and rolls back open transactions; immediate: like a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    asPostgres(pgBin('pg_ctl'), ['-D', join(this.dir, 'data'), '-m', mode, '-w', '-t', '30', 'stop'])
  }

  async createDatabase(name: string): Promise<string> {
    const admin = new pg.Client({ connectionString: this.url() })
    await admin.connect()
    try {
      await admin.query(`create database "${name}"`)
    } finally {
      await admin.end()
    }
    return this.url(name)
  }

  /** pg_dump of one database as plain SQL text. */
  dump(database: string): string {
    return execFileSync(pgBin('pg_dump'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '--no-owner', database], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  }

  async destroy(): Promise<void> {
    try { await this.stop('immediate') } catch { /* already stopped */ }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A private redis-server (no persistence) on a free loopback port. */
export class RedisServer {
  private child?: ChildProcess
  private constructor(readonly port: number) {}

  static async create(): Promise<RedisServer> {
    const server = new RedisServer(await freePort())
    await server.start()
    return server
  }

  get url(): string { return `redis://127.0.0.1:${this.port}` }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore', detached: true })
    await waitFor('redis to listen', () => canConnect(this.port))
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    this.child = undefined
  }
}

export async function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  const { connect } = await import('node:net')
  return new Promise((resolve) => {
    const socket = connect({ port, host })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** PgBouncer in transaction-pooling mode in front of a PgCluster, as a scaled deployment runs it. */
export class PgBouncer {
  private child?: ChildProcess
  private constructor(readonly dir: string, readonly port: number) {}

  static async create(cluster: PgCluster, settings: Record<string, string> = {}): Promise<PgBouncer> {
    const dir = ownedTempDir('pgbouncer')
    const bouncer = new PgBouncer(dir, await freePort())
    writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n')
    const config = {
      listen_addr: '127.0.0.1', listen_port: String(bouncer.port), unix_socket_dir: '',
      auth_type: 'trust', auth_file: join(dir, 'users.txt'), pool_mode: 'transaction',
      max_client_conn: '500', default_pool_size: '20', ignore_startup_parameters: 'extra_float_digits',
      logfile: join(dir, 'pgbouncer.log'), pidfile: '', ...settings,
    }
    writeFileSync(join(dir, 'pgbouncer.ini'), [
      '[databases]', `* = host=127.0.0.1 port=${cluster.port}`, '[pgbouncer]',
      ...Object.entries(config).map(([key, value]) => `${key} = ${value}`), '',
    ].join('\n'))
    chmodSync(join(dir, 'pgbouncer.ini'), 0o644)
    chmodSync(join(dir, 'users.txt'), 0o644)
    await bouncer.start()
    return bouncer
  }

  url(database: string, query = ''): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}${query}`
  }

  async start(): Promise<void> {
    if (!existsSync('/usr/sbin/pgbouncer')) throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer)')
    this.child = spawnAsPostgres('/usr/sbin/pgbouncer', [join(this.dir, 'pgbouncer.ini')])
    await waitFor('pgbouncer to listen', () => canConnect(this.port))
  }

  async destroy(): Promise<void> {
    const child = this.child
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      try { process.kill(-child.pid!, 'SIGKILL') } catch { child.kill('SIGKILL') }
      await exited
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ }
})

export interface NodeProcess {
  url: string
  port: number
  child: ChildProcess
  output(): string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Sends a signal to the server process (node itself, not a wrapper). */
  kill(signal: NodeJS.Signals): void
}

/** Starts `node --import tsx src/main.ts` with exactly these variables (plus PATH/HOME). */
export async function startNode(vars: Record<string, string | undefined>, options: { wait?: boolean } = {}): Promise<NodeProcess> {
  const port = Number(vars.PORT ?? await freePort())
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), NO_COLOR: '1', PORT: String(port), HOST: '127.0.0.1' }
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) env[name] = value
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let output = ''
  child.stdout!.on('data', (chunk) => { output += chunk })
  child.stderr!.on('data', (chunk) => { output += chunk })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => { running.delete(child); resolve({ code, signal }) })
  })
  const host = env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST
  const node: NodeProcess = {
    url: `http://${host}:${port}`, port, child, exited, output: () => output,
    kill: (signal) => { try { child.kill(signal) } catch { /* gone */ } },
  }
  if (options.wait !== false) await waitForListening(node)
  return node
}

export async function waitForListening(node: NodeProcess, timeoutMs = 60_000): Promise<void> {
  let exited = false
  void node.exited.then(() => { exited = true })
  await waitFor(`server on port ${node.port}`, async () => {
    if (exited) throw new Error(`server exited before listening:\n${node.output()}`)
    return /listening on/.test(node.output())
  }, timeoutMs, 100).catch((error) => {
    throw new Error(`${(error as Error).message}\n${node.output().slice(-3000)}`)
  })
}

export async function stopNode(node: NodeProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  node.kill('SIGKILL')
  await node.exited
}
