/**
 * The bench runs each party in its own process (server under test, bound servers, load
 * generator, argon2 probe) so that none shares another's event loop. They talk over Node's IPC
 * channel: the parent calls a named handler in the child and awaits its answer.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface Child {
  readonly pid: number
  call<T = unknown>(type: string, payload?: unknown): Promise<T>
  /** Asks the child to exit, then kills it if it does not within a few seconds. */
  stop(): Promise<void>
}

interface Reply { id: number, ok: boolean, result?: unknown, error?: string }

export interface ChildOptions {
  env?: Record<string, string | undefined>
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[]
  /** Where the child's stdout goes: the server logs at info, so the bench discards it by default. */
  stdout?: 'ignore' | 'inherit'
}

export async function startChild<Ready = unknown>(file: string, options: ChildOptions = {}): Promise<{ child: Child, ready: Ready }> {
  const proc: ChildProcess = fork(fileURLToPath(new URL(`../${file}`, import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
    env: { ...process.env, ...options.env },
    stdio: [ 'ignore', options.stdout ?? 'ignore', 'inherit', 'ipc' ],
  })
  let next = 0
  const pending = new Map<number, { resolve(v: unknown): void, reject(e: Error): void }>()
  let exited = false
  const exit = new Promise<void>((resolve) => proc.once('exit', () => { exited = true; resolve() }))
  const ready = new Promise<Ready>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)))
    proc.on('message', (message: Reply | { type: 'ready', info: Ready }) => {
      if ('type' in message && message.type === 'ready') return resolve(message.info)
      const reply = message as Reply
      const waiter = pending.get(reply.id)
      if (!waiter) return
      pending.delete(reply.id)
      if (reply.ok) waiter.resolve(reply.result)
      else waiter.reject(new Error(`${file}: ${reply.error}`))
    })
  })
  proc.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${file} exited with ${code}`))
    pending.clear()
  })
  const child: Child = {
    pid: proc.pid!,
    call<T>(type: string, payload?: unknown) {
      const id = ++next
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        proc.send({ id, type, payload })
      })
    },
    async stop() {
      if (exited) return
      proc.send({ id: 0, type: 'exit' })
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      await exit
      clearTimeout(timer)
    },
  }
  return { child, ready: await ready }
}

type Handler = (payload: never) => unknown

/** Child side: announce readiness with some info, then answer calls until asked to exit. */
export function serveParent(info: unknown, handlers: Record<string, Handler>, onExit: () => Promise<void> = async () => {}): void {
  process.on('message', async (message: { id: number, type: string, payload: unknown }) => {
    if (message.type === 'exit') {
      await onExit().catch(() => {})
      process.exit(0)
    }
    const handler = handlers[message.type]
    try {
      if (!handler) throw new Error(`no handler for ${message.type}`)
      const result = await handler(message.payload as never)
      process.send!({ id: message.id, ok: true, result })
    } catch (error) {
      process.send!({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) })
    }
  })
  // Orphaned children must not outlive the bench.
  process.on('disconnect', () => { void onExit().finally(() => process.exit(0)) })
  process.send!({ type: 'ready', info })
}

/** Peak resident set size, sampled; reset at the start of each phase of load. */
export function rssSampler(intervalMs = 50) {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()) }, intervalMs)
  timer.unref()
  return {
    reset() { peak = process.memoryUsage.rss(); return peak },
    peak() { return Math.max(peak, process.memoryUsage.rss()) },
  }
}
