/**
 * The routing snapshot, kept in memory: the Traefik document (enabled tenants) and a hostname
 * index of every live tenant for the resolver, built together from one load. Rebuilt when this
 * process changes a tenant or plan (invalidate) and at most `maxAgeMs` after another node or the
 * CLI did, so Traefik's polls and hostname lookups cost no database work and other nodes'
 * changes show within a stated bound.
 */
import { createHash } from 'node:crypto'
import { renderTraefikConfig, stableJson, type RoutableTenant, type TraefikSettings } from './render.js'

export interface SnapshotTenant extends RoutableTenant { isEnabled: boolean }

export interface TraefikSnapshot<T extends SnapshotTenant = SnapshotTenant> {
  body: string
  etag: string
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
    if (current && current.generation === this.generation && this.source.now() - current.builtAt < this.source.maxAgeMs) return current.snapshot
    // Concurrent polls share one rebuild, unless a change happened after it started.
    if (this.pending?.generation === this.generation) return this.pending.promise
    const pending = { generation: this.generation, promise: this.rebuild() }
    this.pending = pending
    return pending.promise.finally(() => { if (this.pending === pending) this.pending = undefined })
  }

  /** The live tenant serving a hostname, from the same snapshot as the Traefik document. */
  async resolve(hostname: string): Promise<T | undefined> {
    return (await this.get()).byHostname.get(hostname.toLowerCase())
  }

  private async rebuild(): Promise<TraefikSnapshot<T>> {
    const generation = this.generation
    const builtAt = this.source.now()
    const tenants = await this.source.loadTenants()
    const body = stableJson(renderTraefikConfig(tenants.filter((tenant) => tenant.isEnabled), this.source.settings))
    const snapshot: TraefikSnapshot<T> = {
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      byHostname: new Map(tenants.map((tenant) => [tenant.hostname.toLowerCase(), tenant])),
    }
    if (!this.current || this.current.builtAt <= builtAt) this.current = { snapshot, builtAt, generation }
    return snapshot
  }
}
