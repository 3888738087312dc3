/**
 * Redis for the shared rate-limit store: the test Redis at 127.0.0.1:6379 (.ci/run starts it),
 * a unique key prefix per test, and real server processes (src/main.ts) so that "shared between
 * nodes" means two processes, not two objects in one.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { testEnv } from './server.js'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export function uniqueRedisPrefix(): string {
  return `tg-test:${randomBytes(6).toString('hex')}:`
}

/** Keys under the prefix (their names hold only scopes and SHA-256 hashes). */
export async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL)
  try {
    return await redis.keys(`${prefix}*`)
  } finally {
    redis.disconnect()
  }
}

export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL)
  try {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length) await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

export interface ServerProcess {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Starts `src/main.ts` as its own process (fresh embedded data dir unless DATABASE_URL is given) and waits for its address. */
export async function startServerProcess(env: Record<string, string | undefined>): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tg-node-'))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, ...testEnv({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: undefined, ...env }) } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server process did not start:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server process exited with ${code}:\n${output}`))
    })
  })
  return {
    url, child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
