/**
 * Password hashing: argon2id (OWASP: m=19456 KiB, t=2, p=1) for everything we write; bcrypt
 * hashes as Contember writes them are verified and flagged for an upgrade on the next sign-in.
 * Both run off the event loop (@node-rs/argon2 on libuv's pool, bcryptjs async). At most one
 * argon2 computation per core runs at a time, the rest wait in line: more would not finish
 * sooner, would take the cores from the event loop and the database, and each holds its
 * memoryKib (19 MiB) while it runs (measured in bench/: the RSS peak under 50 concurrent signIns).
 */
import { availableParallelism } from 'node:os'
import { hash as argonHash, verify as argonVerify, parseOptions } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'

export interface PasswordHasherOptions {
  memoryKib: number
  timeCost: number
  /** Argon2 computations allowed at once; default: the number of cores. */
  concurrency?: number
}

/** A counting semaphore: `run` starts work when fewer than `size` are running, else queues it (FIFO). */
function limiter(size: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async function run<T>(work: () => Promise<T>): Promise<T> {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve))
    else running++
    try {
      return await work()
    } finally {
      // The slot passes straight to the next in line (running stays the same), or is freed.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}

export interface PasswordCheck {
  valid: boolean
  /** True when the stored hash is bcrypt or argon2 with weaker parameters than configured. */
  needsRehash: boolean
}

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(storedHash: string, password: string): Promise<PasswordCheck>
}

export const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/

export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  // Algorithm.Argon2id = 2 (a const enum, which isolatedModules cannot inline).
  const argonOptions = { algorithm: 2, memoryCost: options.memoryKib, timeCost: options.timeCost, parallelism: 1 }
  const argon = limiter(Math.max(1, options.concurrency ?? availableParallelism()))
  return {
    hash: (password) => argon(() => argonHash(password, argonOptions)),
    async verify(storedHash, password) {
      if (BCRYPT_HASH.test(storedHash)) {
        const valid = await bcrypt.compare(password, storedHash.replace(/^\$2y\$/, '$2b$'))
        return { valid, needsRehash: valid }
      }
      if (!storedHash.startsWith('$argon2')) return { valid: false, needsRehash: false }
      let valid: boolean
      try {
        valid = await argon(() => argonVerify(storedHash, password))
      } catch {
        return { valid: false, needsRehash: false }
      }
      if (!valid) return { valid, needsRehash: false }
      const params = parseOptions(storedHash)
      const weaker = (params.memoryCost ?? 0) < options.memoryKib || (params.timeCost ?? 0) < options.timeCost
      return { valid, needsRehash: weaker || !storedHash.startsWith('$argon2id$') }
    },
  }
}
