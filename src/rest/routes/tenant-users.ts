/** The tenant's people: install the administrator, reset a member's password. */
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../../domain/context.js'
import { installTenantAdmin, resetTenantUserPassword, type InstallInput } from '../../domain/tenants/administrator.js'
import { actorOf } from '../actor.js'
import { installBody, passwordResetBody } from '../schemas.js'

interface IdParams { id: string }

export async function tenantUserRoutes(app: FastifyInstance, opts: { ctx: DomainContext }): Promise<void> {
  const { ctx } = opts

  app.post<{ Params: IdParams, Body: InstallInput }>('/tenants/:id/install', { schema: { body: installBody } }, async (request, reply) => {
    const installed = await installTenantAdmin(ctx, request.params.id, request.body, actorOf(request))
    return reply.code(201).header('location', `/_/api/4/tenants/${installed.tenant_id}`).send(installed)
  })

  app.patch<{ Params: IdParams, Body: { username: string, password?: string | null } }>(
    '/tenants/:id/user-password-reset', { schema: { body: passwordResetBody } },
    async (request, reply) => {
      const result = await resetTenantUserPassword(ctx, request.params.id, request.body, actorOf(request))
      // The answer carries a password: no cache may keep it.
      return reply.code(200).header('cache-control', 'no-store').header('pragma', 'no-cache').send(result)
    },
  )
}
