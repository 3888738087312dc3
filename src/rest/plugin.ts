/** The signed REST surface under /_/api/4 (Chevereto Tenants API). */
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../domain/context.js'

export async function restPlugin(_app: FastifyInstance, _opts: { ctx: DomainContext }): Promise<void> {
  // Routes are registered by the REST issue.
}
