/**
 * P2: argon2id verify throughput at the configured parameters with every core busy, and the
 * latency of one verify on an idle machine. Runs through our own hasher (src/domain/crypto).
 */
import { availableParallelism } from 'node:os'
import { createPasswordHasher } from '../src/domain/crypto/passwords.js'
import { serveParent } from './lib/ipc.js'

export interface Argon2Job { memoryKib: number, timeCost: number, durationSec: number, concurrency: number }
export interface Argon2Result { rps: number, singleMs: number, concurrency: number, cores: number }

async function measure(job: Argon2Job): Promise<Argon2Result> {
  const hasher = createPasswordHasher({ memoryKib: job.memoryKib, timeCost: job.timeCost })
  const stored = await hasher.hash('bench-password-1')
  const serial: number[] = []
  for (let i = 0; i < 12; i++) {
    const start = performance.now()
    if (!(await hasher.verify(stored, 'bench-password-1')).valid) throw new Error('verify failed')
    serial.push(performance.now() - start)
  }
  serial.sort((a, b) => a - b)
  let done = 0
  const end = performance.now() + job.durationSec * 1000
  const started = performance.now()
  await Promise.all(Array.from({ length: job.concurrency }, async () => {
    while (performance.now() < end) {
      await hasher.verify(stored, 'bench-password-1')
      done++
    }
  }))
  return { rps: done / ((performance.now() - started) / 1000), singleMs: serial[Math.floor(serial.length / 2)], concurrency: job.concurrency, cores: availableParallelism() }
}

serveParent({ pid: process.pid }, { measure })
