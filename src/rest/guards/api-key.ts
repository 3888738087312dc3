/** Guard 2: a valid tenants API key in X-API-Key; its name becomes the audit actor. */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../../domain/context.js'
import { authenticateApiKey } from '../../domain/tenants-api/api-keys.js'
import { HttpError } from '../errors.js'

export const apiKeyGuard = fp(async (app: FastifyInstance, opts: { ctx: DomainContext }) => {
  app.addHook('onRequest', async (request) => {
    const header = request.headers['x-api-key']
    if (header === undefined || header === '') throw new HttpError(401, 'API_KEY_MISSING', 'Missing X-API-Key header')
    const key = await authenticateApiKey(opts.ctx, Array.isArray(header) ? undefined : header)
    if (!key) throw new HttpError(401, 'API_KEY_INVALID', 'Invalid API key')
    request.apiKeyName = key.name
  })
}, { name: 'tenants-api-key' })
