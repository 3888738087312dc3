/**
 * Guard 1: the caller's address must be on the allow list (an empty list allows everyone).
 * `client` judges request.ip, which honours X-Forwarded-For only from TRUSTED_PROXIES (Fastify's
 * trustProxy); `socket` judges the TCP peer and nothing else (the Traefik endpoint).
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AllowList } from '../../domain/tenants-api/ip-allow-list.js'
import { HttpError } from '../errors.js'

export interface IpAllowListOptions { allowList: AllowList, source: 'client' | 'socket' }

function addressOf(request: FastifyRequest, source: IpAllowListOptions['source']): string | undefined {
  return source === 'socket' ? request.socket.remoteAddress : request.ip
}

export const ipAllowListGuard = fp(async (app: FastifyInstance, opts: IpAllowListOptions) => {
  if (opts.allowList.empty) return
  app.addHook('onRequest', async (request) => {
    const address = addressOf(request, opts.source)
    if (!address) throw new HttpError(400, 'CLIENT_ADDRESS_UNKNOWN', 'Unable to determine client IP address')
    if (!opts.allowList.allows(address)) throw new HttpError(403, 'ADDRESS_NOT_ALLOWED', 'Access denied from your IP address')
  })
}, { name: 'tenants-api-ip-allow-list' })
