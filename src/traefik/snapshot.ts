/**
 * The served Traefik document, kept in memory: rebuilt when this process changes a tenant
 * (invalidate) and at most `maxAgeMs` after another node or the CLI did, so Traefik's polls
 * cost no database work and other nodes' changes show within a stated bound.
 */
import { createHash } from 'node:crypto'
import { renderTraefikConfig, stableJson, type RoutableTenant, type TraefikSettings } from './render.js'

export interface TraefikSnapshot { body: string, etag: string }

export interface SnapshotSource {
  settings: TraefikSettings
  loadTenants(): Promise<RoutableTenant[]>
  now(): number
  maxAgeMs: number
}

export class TraefikSnapshotCache {
  private current?: { snapshot: TraefikSnapshot, builtAt: number, generation: number }
  private pending?: { promise: Promise<TraefikSnapshot>, generation: number }
  private generation = 0

  constructor(private readonly source: SnapshotSource) {}

  invalidate(): void {
    this.generation++
  }

  async get(): Promise<TraefikSnapshot> {
    const current = this.current
    if (current && current.generation === this.generation && this.source.now() - current.builtAt < this.source.maxAgeMs) return current.snapshot
    // Concurrent polls share one rebuild, unless a change happened after it started.
    if (this.pending?.generation === this.generation) return this.pending.promise
    const pending = { generation: this.generation, promise: this.rebuild() }
    this.pending = pending
    return pending.promise.finally(() => { if (this.pending === pending) this.pending = undefined })
  }

  private async rebuild(): Promise<TraefikSnapshot> {
    const generation = this.generation
    const builtAt = this.source.now()
    const body = stableJson(renderTraefikConfig(await this.source.loadTenants(), this.source.settings))
    const snapshot = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
    if (!this.current || this.current.builtAt <= builtAt) this.current = { snapshot, builtAt, generation }
    return snapshot
  }
}
