/** GET /tenants/{id}/audit: the tenant's REST and GraphQL events, newest first, in offset pages. */
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../../domain/context.js'
import { tenantAudit } from '../../domain/tenants/audit.js'

const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'string' }, offset: { type: 'string' } },
} as const

export async function tenantAuditRoutes(app: FastifyInstance, opts: { ctx: DomainContext }): Promise<void> {
  app.get<{ Params: { id: string }, Querystring: { limit?: string, offset?: string } }>(
    '/tenants/:id/audit', { schema: { querystring: auditQuery } },
    async (request) => tenantAudit(opts.ctx, request.params.id, request.query),
  )
}
