/**
 * Coalesces one kind of hot read (or claim) issued by concurrent requests: while fewer than
 * `maxInFlight` round trips of this kind are out, a call goes to the database at once, alone;
 * beyond that, calls wait for the next free slot and go together, as one statement over an
 * array of keys. Under load the pool queued those calls anyway, one round trip each; on these
 * machines a round trip's cost is mostly the socket write and the wake-up of a backend, so N
 * requests sharing one is most of what a hot path can save. Under light load nothing waits.
 */
export interface CoalescedOptions<K, V> {
  /** Runs one batch; the result is aligned with `keys` (same length, same order). */
  run(keys: K[]): Promise<V[]>
  /** Round trips of this kind at once before calls start to wait and batch. */
  maxInFlight: number
  /** The largest batch (bounds the statement's array and one slow round trip's fan-out). */
  maxBatch: number
}

interface Waiter<K, V> { key: K, resolve(value: V): void, reject(error: unknown): void }

export class Coalesced<K, V> {
  private readonly queue: Waiter<K, V>[] = []
  private inFlight = 0

  constructor(private readonly options: CoalescedOptions<K, V>) {}

  call(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.queue.push({ key, resolve, reject })
      if (this.inFlight < this.options.maxInFlight) this.flush()
    })
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.options.maxBatch)
    if (batch.length === 0) return
    this.inFlight++
    let results: Promise<V[]>
    try {
      results = this.options.run(batch.map((waiter) => waiter.key))
    } catch (error) {
      results = Promise.reject(error)
    }
    results.then(
      (values) => batch.forEach((waiter, i) => waiter.resolve(values[i])),
      (error: unknown) => batch.forEach((waiter) => waiter.reject(error)),
    ).finally(() => {
      this.inFlight--
      if (this.queue.length > 0) this.flush()
    })
  }
}

/**
 * A coalesced read of at most one row per key: a lone key runs `one` (its one-row statement), a
 * batch runs `many` and finds each key's row by `keyOf`. Every call gets its row or undefined.
 */
export function coalescedRowByKey<K, R>(options: {
  one(key: K): Promise<R | undefined>
  many(keys: K[]): Promise<R[]>
  keyOf(row: R): K
  maxInFlight: number
  maxBatch: number
}): Coalesced<K, R | undefined> {
  const { one, many, keyOf, maxInFlight, maxBatch } = options
  return new Coalesced<K, R | undefined>({
    async run(keys) {
      if (keys.length === 1) return [await one(keys[0])]
      const byKey = new Map((await many(keys)).map((row) => [keyOf(row), row]))
      return keys.map((key) => byKey.get(key))
    },
    maxInFlight,
    maxBatch,
  })
}
