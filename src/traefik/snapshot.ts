/**
 * The routing snapshot, kept in memory: the Traefik document (enabled tenants) and a hostname
 * index of every live tenant for the resolver, built together from one load. Rebuilt when this
 * process changes a tenant or plan (invalidate) and at most `maxAgeMs` after another node or the
 * CLI did, so Traefik's polls and hostname lookups cost no database work and other nodes'
 * changes show within a stated bound.
 *
 * The document is kept as bytes, and gzipped once per change, not per poll: at 10 000 tenants it
 * is ~1 MB, and re-encoding it for every response was the whole cost of the route. A rebuild whose bytes did not change keeps the
 * previous encodings; a local change (invalidate) is always waited for.
 */
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip as gzipCallback } from 'node:zlib'
import { renderTraefikConfig, stableJson, type RoutableTenant, type TraefikSettings } from './render.js'

const gzip = promisify(gzipCallback)
/** Past this fraction of maxAgeMs a snapshot is rebuilt ahead, in the background. */
const REFRESH_AHEAD = 0.8

export interface SnapshotTenant extends RoutableTenant { isEnabled: boolean }

export interface TraefikSnapshot<T extends SnapshotTenant = SnapshotTenant> {
  /** The document, UTF-8. */
  body: Buffer
  /** The same bytes gzipped (what Traefik's Go client asks for by default). */
  gzip: Buffer
  /** Strong ETag of the identity representation. */
  etag: string
  /** Strong ETag of the gzip representation (a different byte sequence needs its own tag). */
  gzipEtag: string
  /** Every live tenant (enabled or not) by lower-case hostname. */
  byHostname: ReadonlyMap<string, T>
}

export interface SnapshotSource<T extends SnapshotTenant> {
  settings: TraefikSettings
  loadTenants(): Promise<T[]>
  now(): number
  maxAgeMs: number
}

export class TraefikSnapshotCache<T extends SnapshotTenant = SnapshotTenant> {
  private current?: { snapshot: TraefikSnapshot<T>, builtAt: number, generation: number }
  private pending?: { promise: Promise<TraefikSnapshot<T>>, generation: number }
  private generation = 0

  constructor(private readonly source: SnapshotSource<T>) {}

  invalidate(): void {
    this.generation++
  }

  async get(): Promise<TraefikSnapshot<T>> {
    const current = this.current
    if (current && current.generation === this.generation) {
      const age = this.source.now() - current.builtAt
      // Near the end of its life it is rebuilt in the background while still served, so that
      // steady polling never waits for a rebuild and the snapshot is never older than maxAgeMs.
      if (age >= REFRESH_AHEAD * this.source.maxAgeMs && age < this.source.maxAgeMs && !this.pending) void this.refresh().catch(() => {})
      if (age < this.source.maxAgeMs) return current.snapshot
    }
    return this.refresh()
  }

  /** The live tenant serving a hostname, from the same snapshot as the Traefik document. */
  async resolve(hostname: string): Promise<T | undefined> {
    return (await this.get()).byHostname.get(hostname.toLowerCase())
  }

  /** Concurrent callers share one rebuild, unless a change happened after it started. */
  private refresh(): Promise<TraefikSnapshot<T>> {
    if (this.pending?.generation === this.generation) return this.pending.promise
    const pending = { generation: this.generation, promise: this.rebuild() }
    this.pending = pending
    return pending.promise.finally(() => { if (this.pending === pending) this.pending = undefined })
  }

  private async rebuild(): Promise<TraefikSnapshot<T>> {
    const generation = this.generation
    const builtAt = this.source.now()
    const tenants = await this.source.loadTenants()
    const body = Buffer.from(stableJson(renderTraefikConfig(tenants.filter((tenant) => tenant.isEnabled), this.source.settings)))
    const previous = this.current?.snapshot
    const unchanged = previous !== undefined && previous.body.equals(body)
    const tag = createHash('sha256').update(body).digest('base64url').slice(0, 27)
    const snapshot: TraefikSnapshot<T> = {
      body: unchanged ? previous.body : body,
      gzip: unchanged ? previous.gzip : await gzip(body),
      etag: `"${tag}"`,
      gzipEtag: `"${tag}-gzip"`,
      byHostname: new Map(tenants.map((tenant) => [tenant.hostname.toLowerCase(), tenant])),
    }
    if (!this.current || this.current.builtAt <= builtAt) this.current = { snapshot, builtAt, generation }
    return snapshot
  }
}
