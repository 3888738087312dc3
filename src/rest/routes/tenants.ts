/** Tenants: list, create, get, edit, delete (archive or purge), restore. */
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../../domain/context.js'
import { deleteTenant, restoreTenant } from '../../domain/tenants/lifecycle.js'
import { createTenantReporting, editTenant, getTenant, listTenants, type CreateTenantInput, type EditTenantInput } from '../../domain/tenants/tenants.js'
import type { TraefikSnapshotCache } from '../../traefik/snapshot.js'
import { actorOf } from '../actor.js'
import { compileBodyCheck } from '../body-check.js'
import { tenantCreateBody, tenantDeleteBody, tenantEditBody } from '../schemas.js'

interface IdParams { id: string }

export async function tenantRoutes(app: FastifyInstance, opts: { ctx: DomainContext, snapshot: TraefikSnapshotCache }): Promise<void> {
  const { ctx, snapshot } = opts
  const checkDeleteBody = compileBodyCheck(tenantDeleteBody)

  app.get('/tenants', async () => listTenants(ctx))

  app.post<{ Body: CreateTenantInput }>('/tenants', { schema: { body: tenantCreateBody } }, async (request, reply) => {
    const { tenant, project } = await createTenantReporting(ctx, request.body, actorOf(request))
    snapshot.invalidate()
    // The body stays Chevereto's Tenant object; whether the project was new or adopted is a header.
    return reply.code(201).header('location', `/_/api/4/tenants/${tenant.id}`).header('x-tenant-project', project).send(tenant)
  })

  app.get<{ Params: IdParams }>('/tenants/:id', async (request) => getTenant(ctx, request.params.id))

  app.patch<{ Params: IdParams, Body: EditTenantInput }>('/tenants/:id', { schema: { body: tenantEditBody } }, async (request, reply) => {
    await editTenant(ctx, request.params.id, request.body, actorOf(request))
    snapshot.invalidate()
    return reply.code(204).send()
  })

  app.delete<{ Params: IdParams }>('/tenants/:id', async (request, reply) => {
    // The body is optional here (Chevereto's clients send Content-Type: application/json without one).
    const body = checkDeleteBody(request.body) as { drop_tables?: boolean } | undefined
    await deleteTenant(ctx, request.params.id, { dropTables: body?.drop_tables === true }, actorOf(request))
    snapshot.invalidate()
    return reply.code(204).send()
  })

  app.post<{ Params: IdParams }>('/tenants/:id/restore', async (request) => {
    const tenant = await restoreTenant(ctx, request.params.id, actorOf(request))
    snapshot.invalidate()
    return tenant
  })
}
