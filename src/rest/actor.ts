/** The audit actor of a REST request: which tenants API key, from where, which request. */
import type { FastifyRequest } from 'fastify'
import type { Actor } from '../domain/context.js'

export function actorOf(request: FastifyRequest): Actor {
  const userAgent = request.headers['user-agent']
  return {
    apiKeyName: request.apiKeyName,
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 500) : undefined,
    requestId: request.id,
  }
}
