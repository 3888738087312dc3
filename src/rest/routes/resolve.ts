/**
 * GET /resolve?hostname=: which tenant serves a hostname, for the application behind Traefik.
 * Answered from the same in-memory snapshot as GET /config/traefik (rebuilt on changes), so a
 * lookup costs no database work; disabled tenants resolve too, with is_enabled false.
 */
import type { FastifyInstance } from 'fastify'
import type { HostedTenant } from '../../domain/tenants/hosting.js'
import { checkHostname } from '../../domain/tenants/values.js'
import type { TraefikSnapshotCache } from '../../traefik/snapshot.js'
import { HttpError } from '../errors.js'

const resolveQuery = {
  type: 'object',
  required: ['hostname'],
  additionalProperties: false,
  properties: { hostname: { type: 'string' } },
} as const

export async function resolveRoutes(app: FastifyInstance, opts: { snapshot: TraefikSnapshotCache<HostedTenant> }): Promise<void> {
  app.get<{ Querystring: { hostname: string } }>('/resolve', { schema: { querystring: resolveQuery } }, async (request, reply) => {
    const hostname = checkHostname(request.query.hostname)
    const tenant = await opts.snapshot.resolve(hostname)
    if (!tenant) throw new HttpError(404, 'HOSTNAME_NOT_FOUND', `No tenant serves hostname "${hostname}"`)
    // The answer carries decrypted env values: no cache may keep it.
    return reply.header('cache-control', 'no-store').send({
      tenant_id: tenant.id, hostname: tenant.hostname, is_enabled: tenant.isEnabled, limits: tenant.limits, env: tenant.env(),
    })
  })
}
