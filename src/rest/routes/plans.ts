/** Tenant plans: list, create, get, edit, delete. */
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../../domain/context.js'
import { createPlan, deletePlan, editPlan, getPlan, listPlans, type PlanInput } from '../../domain/plans/plans.js'
import { actorOf } from '../actor.js'
import type { TraefikSnapshotCache } from '../../traefik/snapshot.js'
import { planCreateBody, planEditBody } from '../schemas.js'

interface IdParams { id: string }

/** Plan edits and deletes change tenants' effective limits and env: the resolver snapshot is rebuilt. */
export async function planRoutes(app: FastifyInstance, opts: { ctx: DomainContext, snapshot: TraefikSnapshotCache }): Promise<void> {
  const { ctx, snapshot } = opts

  app.get('/tenants-plans', async () => listPlans(ctx))

  app.post<{ Body: PlanInput }>('/tenants-plans', { schema: { body: planCreateBody } }, async (request, reply) => {
    const plan = await createPlan(ctx, request.body, actorOf(request))
    return reply.code(201).header('location', `/_/api/4/tenants-plans/${plan.id}`).send(plan)
  })

  app.get<{ Params: IdParams }>('/tenants-plans/:id', async (request) => getPlan(ctx, request.params.id))

  app.patch<{ Params: IdParams, Body: { limits?: unknown, env?: unknown } }>('/tenants-plans/:id', { schema: { body: planEditBody } }, async (request, reply) => {
    await editPlan(ctx, request.params.id, request.body, actorOf(request))
    snapshot.invalidate()
    return reply.code(204).send()
  })

  app.delete<{ Params: IdParams }>('/tenants-plans/:id', async (request, reply) => {
    await deletePlan(ctx, request.params.id, actorOf(request))
    snapshot.invalidate()
    return reply.code(204).send()
  })
}
