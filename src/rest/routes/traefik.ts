/**
 * GET /config/traefik: the dynamic configuration Traefik's HTTP provider polls, from the
 * in-memory snapshot; ETag for conditional clients (Traefik itself never sends If-None-Match).
 */
import type { FastifyInstance } from 'fastify'
import type { TraefikSnapshotCache } from '../../traefik/snapshot.js'

export async function traefikRoutes(app: FastifyInstance, opts: { snapshot: TraefikSnapshotCache }): Promise<void> {
  app.get('/config/traefik', async (request, reply) => {
    const { body, etag } = await opts.snapshot.get()
    reply.header('etag', etag).header('cache-control', 'no-cache')
    const match = request.headers['if-none-match']
    if (match && match.split(',').map((tag) => tag.trim()).includes(etag)) return reply.code(304).send()
    return reply.type('application/json; charset=utf-8').send(body)
  })
}
