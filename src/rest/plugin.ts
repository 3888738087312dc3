/**
 * The signed REST surface under /_/api/4 (Chevereto Tenants API). Two encapsulated chains:
 *   signed API:      IP allow list (client address) -> X-API-Key -> raw body -> X-Signature -> routes
 *                    (tenants, install/reset, plans, audit, hostname resolver)
 *   internal config: loopback/allow-listed socket peers -> X-API-Key -> GET /config/traefik
 * Bodies are JSON only (415 otherwise), at most TENANTS_API_BODY_LIMIT bytes (413), and an
 * empty body with Content-Type: application/json is no body, not an error. No string in
 * params, query or body may hold what PostgreSQL cannot store (400, guards/storable-text.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../domain/context.js'
import { hostedTenants, type HostedTenant } from '../domain/tenants/hosting.js'
import { createAllowList, LOOPBACK } from '../domain/tenants-api/ip-allow-list.js'
import { TraefikSnapshotCache } from '../traefik/snapshot.js'
import { restAjv } from './ajv.js'
import { errorBody, HttpError, restErrorHandler, validationMessage } from './errors.js'
import { apiKeyGuard } from './guards/api-key.js'
import { ipAllowListGuard } from './guards/ip-allow-list.js'
import { rawBodyReader } from './guards/raw-body.js'
import { signatureGuard } from './guards/signature.js'
import { storableTextGuard } from './guards/storable-text.js'
import { recordRoute } from './route-table.js'
import { authRoutes } from './routes/auth.js'
import { planRoutes } from './routes/plans.js'
import { resolveRoutes } from './routes/resolve.js'
import { tenantAuditRoutes } from './routes/tenant-audit.js'
import { tenantRoutes } from './routes/tenants.js'
import { tenantUserRoutes } from './routes/tenant-users.js'
import { traefikRoutes } from './routes/traefik.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact request body bytes, as signed (set before parsing). */
    rawBody?: Buffer
    /** The authenticated tenants API key's name. */
    apiKeyName?: string
  }
}

/** How long another node's (or the CLI's) tenant change may take to reach this node's Traefik snapshot. */
const SNAPSHOT_MAX_AGE_MS = 5_000

export async function restPlugin(app: FastifyInstance, opts: { ctx: DomainContext }): Promise<void> {
  const { ctx } = opts
  const { tenantsApi } = ctx.config
  const snapshot = new TraefikSnapshotCache<HostedTenant>({
    settings: ctx.config.traefik,
    loadTenants: () => hostedTenants(ctx),
    now: () => Date.now(),
    maxAgeMs: SNAPSHOT_MAX_AGE_MS,
  })

  app.decorateRequest('rawBody', undefined)
  app.decorateRequest('apiKeyName', undefined)
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') recordRoute(app.server, { method, url: route.url })
  })
  app.setValidatorCompiler(({ schema }) => restAjv.compile(schema))
  app.setSchemaErrorFormatter((errors, dataVar) => new Error(validationMessage(errors as never, dataVar)))
  app.setErrorHandler(restErrorHandler)
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, 'ROUTE_NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: tenantsApi.bodyLimitBytes }, (_request, body, done) => {
    const buffer = body as Buffer
    if (buffer.length === 0) return done(null, undefined)
    try {
      done(null, JSON.parse(buffer.toString('utf8')))
    } catch {
      done(new HttpError(400, 'FST_ERR_CTP_INVALID_JSON', 'Body is not valid JSON'), undefined)
    }
  })

  await app.register(storableTextGuard)

  await app.register(async (signed) => {
    await signed.register(ipAllowListGuard, { allowList: createAllowList(tenantsApi.ipAllowList), source: 'client' })
    await signed.register(apiKeyGuard, { ctx })
    await signed.register(rawBodyReader, { limit: tenantsApi.bodyLimitBytes })
    await signed.register(signatureGuard, { ctx })
    await signed.register(authRoutes)
    await signed.register(tenantRoutes, { ctx, snapshot })
    await signed.register(tenantUserRoutes, { ctx })
    await signed.register(planRoutes, { ctx, snapshot })
    await signed.register(tenantAuditRoutes, { ctx })
    await signed.register(resolveRoutes, { snapshot })
  })

  await app.register(async (internal) => {
    await internal.register(ipAllowListGuard, { allowList: createAllowList([...LOOPBACK, ...tenantsApi.internalAllowList]), source: 'socket' })
    await internal.register(apiKeyGuard, { ctx })
    await internal.register(traefikRoutes, { snapshot })
  })
}
