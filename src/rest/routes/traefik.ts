/**
 * GET /config/traefik: the dynamic configuration Traefik's HTTP provider polls, from the
 * in-memory snapshot, gzipped when the client accepts it (Traefik's Go client does by default;
 * the bytes are compressed once per change, in the snapshot). Each representation has its own
 * strong ETag; If-None-Match is compared (weakly, RFC 9110) with the one selected, for a 304.
 */
import type { FastifyInstance } from 'fastify'
import type { TraefikSnapshotCache } from '../../traefik/snapshot.js'

/** Whether Accept-Encoding allows gzip: `gzip`/`x-gzip` or `*` with a non-zero q. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false
  let gzip: boolean | undefined
  let any = false
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const allowed = q === undefined || Number(q.slice(2)) > 0
    if (name === 'gzip' || name === 'x-gzip') gzip = allowed
    else if (name === '*') any = allowed
  }
  return gzip ?? any
}

const opaque = (tag: string) => tag.trim().replace(/^W\//, '')

export async function traefikRoutes(app: FastifyInstance, opts: { snapshot: TraefikSnapshotCache }): Promise<void> {
  app.get('/config/traefik', async (request, reply) => {
    const snapshot = await opts.snapshot.get()
    const gzip = acceptsGzip(request.headers['accept-encoding'])
    const etag = gzip ? snapshot.gzipEtag : snapshot.etag
    reply.header('etag', etag).header('cache-control', 'no-cache').header('vary', 'Accept-Encoding')
    const match = request.headers['if-none-match']
    if (match && (match.trim() === '*' || match.split(',').some((tag) => opaque(tag) === etag))) return reply.code(304).send()
    reply.type('application/json; charset=utf-8')
    if (gzip) reply.header('content-encoding', 'gzip')
    return reply.send(gzip ? snapshot.gzip : snapshot.body)
  })
}
