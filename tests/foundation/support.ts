/**
 * Helpers for the foundation tests: the service as real child processes (the README's start
 * command, the Docker command), databases that survive a restart on either driver, and a
 * connection to the test PostgreSQL server for inspecting and disturbing it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import pg from 'pg'
import { loadConfig, type Config } from '../../src/config.js'
import { startRuntime, type Runtime } from '../../src/server.js'
import { createPostgresDatabase, embeddedTemplate, testEnv } from '../helpers/server.js'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** `npm start` as a newcomer types it, and the Dockerfile's CMD (node is PID 1 there). */
export const NPM_START = ['npm', 'start']
export const DOCKER_CMD = ['node', '--import', 'tsx', 'src/main.ts']

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tg-${prefix}-`))
}

/**
 * The child's environment: only what a shell needs plus the variables a test states, so nothing
 * of the runner's own configuration (DATABASE_URL, NODE_TEST_CONTEXT, ...) leaks into the service.
 */
export function childEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), NO_COLOR: '1' }
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) env[name] = value
  return env
}

export interface ServiceProcess {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits before. */
  waitForStdout(pattern: RegExp): Promise<RegExpMatchArray>
  /** Exit code, or 128 + signal number when a signal ended it. */
  exited: Promise<number>
  /** Signals the whole process group, as Ctrl-C in a terminal does. */
  signalGroup(signal: NodeJS.Signals): void
}

const running = new Set<ChildProcess>()

/** A failed or timed-out test must not leave servers behind: kill what is still running. */
export function killLeftovers(): void {
  for (const child of running) {
    try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ }
  }
  running.clear()
}
process.on('exit', killLeftovers)
// The test runner ends a file that runs over its timeout with SIGTERM.
process.once('SIGTERM', () => {
  killLeftovers()
  process.kill(process.pid, 'SIGTERM')
})

export function spawnService(command: string[], env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(command[0], command.slice(1), { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let out = ''
  let err = ''
  const waiters: { pattern: RegExp, resolve(m: RegExpMatchArray): void, reject(e: Error): void }[] = []
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = out.match(waiter.pattern)
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(match)
      }
    }
  }
  child.stdout!.on('data', (chunk) => { out += chunk; check() })
  child.stderr!.on('data', (chunk) => { err += chunk })
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child)
      check()
      for (const waiter of waiters.splice(0)) {
        waiter.reject(new Error(`process exited (${code ?? signal}) before printing ${waiter.pattern}\nstdout:\n${out}\nstderr:\n${err}`))
      }
      resolve(code ?? 128 + (signal ? { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 }[signal as string] ?? 0 : 0))
    })
  })
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout(pattern) {
      const match = out.match(pattern)
      if (match) return Promise.resolve(match)
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`process already exited; stdout:\n${out}`))
      return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }))
    },
    exited,
    signalGroup(signal) { process.kill(-child.pid!, signal) },
  }
}

export interface StartedService extends ServiceProcess {
  url: string
  /** Tokens printed on a first start, if any. */
  printed: { loginToken?: string, rootToken?: string }
}

/** Spawns the service and waits for its start message (address, and tokens on a first start). */
export async function startService(command: string[], env: NodeJS.ProcessEnv): Promise<StartedService> {
  const service = spawnService(command, env)
  const [, url] = await service.waitForStdout(/tenant-gateway listening on (http:\/\/\S+)/)
  const printed: StartedService['printed'] = {}
  if (service.stdout().includes('First start')) {
    printed.rootToken = (await service.waitForStdout(/root token [^\n]*: +([0-9a-f]{40})\n/))[1]
    printed.loginToken = service.stdout().match(/login token [^\n]*: +([0-9a-f]{40})\n/)?.[1]
  }
  return { ...service, url, printed }
}

/** The non-blank lines of a process's output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '')
}

/**
 * A database that outlives one runtime, on the driver of this run: a fresh PostgreSQL database
 * when DATABASE_URL is set, else an embedded one (a migrated template, carried across restarts
 * by dumping the data directory on close).
 */
export interface DurableDatabase {
  kind: 'postgres' | 'embedded'
  /** DATABASE_URL of the fresh database (PostgreSQL only). */
  url?: string
  start(env?: Record<string, string | undefined>, options?: { captureLogs?: boolean }): Promise<DurableServer>
  drop(): Promise<void>
}

export interface DurableServer {
  url: string
  runtime: Runtime
  config: Config
  logs: string[]
  close(): Promise<void>
}

export async function durableDatabase(kind: 'postgres' | 'embedded' = process.env.DATABASE_URL ? 'postgres' : 'embedded'): Promise<DurableDatabase> {
  const created = kind === 'postgres' ? await createPostgresDatabase() : undefined
  let snapshot = created ? undefined : await embeddedTemplate()
  return {
    kind,
    url: created?.url,
    async start(env = {}, options = {}) {
      const config = loadConfig(testEnv({ ...env, DATABASE_URL: created?.url }))
      const logs: string[] = []
      const logStream = options.captureLogs ? new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done() } }) : undefined
      const runtime = await startRuntime(config, { logStream, loadDataDir: snapshot })
      const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' })
      return {
        url, runtime, config, logs,
        async close() {
          if (runtime.database.dumpDataDir) snapshot = await runtime.database.dumpDataDir()
          await runtime.close()
        },
      }
    },
    async drop() { await created?.drop() },
  }
}

/** An administrative connection to the test PostgreSQL server (the database of DATABASE_URL). */
export function adminConnection(): pg.Pool {
  return new pg.Pool({ connectionString: process.env.DATABASE_URL!, max: 1 })
}

export function databaseName(url: string): string {
  return new URL(url).pathname.slice(1)
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
