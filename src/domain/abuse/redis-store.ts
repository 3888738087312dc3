/**
 * The sliding windows in Redis, shared by every node: one sorted set per key (score = event
 * time in ms), trimmed and counted by one Lua script per call, so a check-and-record is atomic
 * across nodes. Commands time out after a second and are not queued while Redis is away: the
 * caller sees the error and fails closed (rate-limit.ts).
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { SlidingWindowStore, WindowState } from './store.js'

const CONSUME = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[3])
if count >= limit then
  local blocking = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return {0, tonumber(blocking[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0}`

const INSPECT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
return {redis.call('ZCARD', KEYS[1]), newest[2] or false}`

const RECORD = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`

const member = (nowMs: number) => `${nowMs}:${randomBytes(6).toString('hex')}`

export class RedisWindowStore implements SlidingWindowStore {
  private readonly redis: Redis

  constructor(url: string, keyPrefix: string) {
    this.redis = new Redis(url, {
      keyPrefix,
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    })
    // Connection errors surface as failed commands; the event itself must not crash the process.
    this.redis.on('error', () => {})
  }

  async consume(key: string, limit: number, windowMs: number, nowMs: number) {
    const [allowed, retryAfterMs] = await this.redis.eval(CONSUME, 1, key, nowMs, windowMs, limit, member(nowMs)) as [number, number]
    return { allowed: allowed === 1, retryAfterMs: Math.max(1, retryAfterMs) }
  }

  async inspect(key: string, windowMs: number, nowMs: number): Promise<WindowState> {
    const [count, newest] = await this.redis.eval(INSPECT, 1, key, nowMs, windowMs) as [number, string | null]
    return { count, newestMs: newest ? Number(newest) : null }
  }

  async record(key: string, windowMs: number, nowMs: number): Promise<void> {
    await this.redis.eval(RECORD, 1, key, nowMs, windowMs, member(nowMs))
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(key)
  }

  async close(): Promise<void> {
    this.redis.disconnect()
  }
}
