/**
 * The audit actor of a REST request: which tenants API key, from where, which request. request.ip
 * is Fastify's, which reads X-Forwarded-For only from TRUSTED_PROXIES; when it differs from the
 * socket peer, that peer is the proxy and is recorded as the forwarder.
 */
import type { FastifyRequest } from 'fastify'
import type { Actor } from '../domain/context.js'
import { normalizeIp } from '../http/client-info.js'

export function actorOf(request: FastifyRequest): Actor {
  const userAgent = request.headers['user-agent']
  const ip = normalizeIp(request.ip)
  const peer = normalizeIp(request.socket.remoteAddress ?? '')
  return {
    apiKeyName: request.apiKeyName,
    ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 500) : undefined,
    forwarderIp: peer !== '' && peer !== ip ? peer : undefined,
    requestId: request.id,
  }
}
