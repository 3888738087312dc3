/** The GraphQL surface at /tenant (Contember Tenant API). */
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../domain/context.js'

export async function graphqlPlugin(_app: FastifyInstance, _opts: { ctx: DomainContext }): Promise<void> {
  // Routes are registered by the GraphQL issue.
}
