/**
 * Sliding-window event stores for rate limits and sign-in backoff. Keys are `<scope>:<sha256>`,
 * never a raw IP or e-mail. One process without REDIS_URL keeps the windows in memory (lost on
 * restart, not shared between nodes); with REDIS_URL every node shares them (redis-store.ts).
 */
export interface WindowState {
  /** Events within the window. */
  count: number
  newestMs: number | null
}

export interface SlidingWindowStore {
  /**
   * Records one event at `nowMs` unless `limit` events already fall within the window. When
   * refused, `retryAfterMs` is the time until enough events have left the window.
   */
  consume(key: string, limit: number, windowMs: number, nowMs: number): Promise<{ allowed: boolean, retryAfterMs: number }>
  inspect(key: string, windowMs: number, nowMs: number): Promise<WindowState>
  record(key: string, windowMs: number, nowMs: number): Promise<void>
  clear(key: string): Promise<void>
  close(): Promise<void>
}

/** How long until the window holds fewer than `limit` of these (ascending) events. */
export function retryAfter(events: readonly number[], limit: number, windowMs: number, nowMs: number): number {
  const blocking = events[events.length - limit]
  return Math.max(1, blocking + windowMs - nowMs)
}

const MAX_KEYS = 100_000

export class MemoryWindowStore implements SlidingWindowStore {
  private readonly windows = new Map<string, { events: number[], windowMs: number }>()

  private current(key: string, windowMs: number, nowMs: number): number[] {
    const entry = this.windows.get(key)
    if (!entry) return []
    const start = nowMs - windowMs
    const events = entry.events.filter((at) => at > start)
    if (events.length === 0) this.windows.delete(key)
    else entry.events = events
    return events
  }

  private add(key: string, windowMs: number, nowMs: number): void {
    if (this.windows.size >= MAX_KEYS && !this.windows.has(key)) this.sweep(nowMs)
    const entry = this.windows.get(key)
    if (entry) {
      entry.events.push(nowMs)
      entry.windowMs = Math.max(entry.windowMs, windowMs)
    } else {
      this.windows.set(key, { events: [nowMs], windowMs })
    }
  }

  /** Drops expired windows; if all are live, the oldest keys go (memory stays bounded). */
  private sweep(nowMs: number): void {
    for (const [key, entry] of this.windows) {
      if (entry.events[entry.events.length - 1] <= nowMs - entry.windowMs) this.windows.delete(key)
    }
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_KEYS) break
      this.windows.delete(key)
    }
  }

  async consume(key: string, limit: number, windowMs: number, nowMs: number) {
    const events = this.current(key, windowMs, nowMs)
    if (events.length >= limit) return { allowed: false, retryAfterMs: retryAfter(events, limit, windowMs, nowMs) }
    this.add(key, windowMs, nowMs)
    return { allowed: true, retryAfterMs: 0 }
  }

  async inspect(key: string, windowMs: number, nowMs: number): Promise<WindowState> {
    const events = this.current(key, windowMs, nowMs)
    return { count: events.length, newestMs: events.length ? events[events.length - 1] : null }
  }

  async record(key: string, windowMs: number, nowMs: number): Promise<void> {
    this.add(key, windowMs, nowMs)
  }

  async clear(key: string): Promise<void> {
    this.windows.delete(key)
  }

  async close(): Promise<void> {
    this.windows.clear()
  }
}
