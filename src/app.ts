/**
 * buildApp: the Fastify instance with both surfaces on one data layer. Everything it needs comes
 * in as dependencies, so tests build it exactly as main.ts does.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { clientErrorHandler } from './http/client-error.js'
import type { DestinationStream } from 'pino'
import type { DomainContext } from './domain/context.js'
import { createLogger } from './http/logger.js'
import { healthRoutes } from './http/health.js'
import { restPlugin } from './rest/plugin.js'
import { graphqlPlugin } from './graphql/plugin.js'

export interface AppDeps {
  ctx: DomainContext
  /** Where logs go (tests capture them); stdout when absent. */
  logStream?: DestinationStream
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { ctx } = deps
  const app = Fastify({
    loggerInstance: createLogger(ctx.config.logLevel, deps.logStream) as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID()
    },
    requestIdHeader: false,
    trustProxy: ctx.config.trustedProxies.length > 0 ? ctx.config.trustedProxies : false,
    bodyLimit: 1024 * 1024,
    // Slow clients must not hold sockets forever (slow-loris): the headers within 10 s, the whole
    // request within 30 s, 60 s of socket silence, 5 s idle keep-alive; Node enforces the first two
    // on a sweep every 2 s (its default, 30 s, would let a socket outlive them by that much).
    // Headers above 16 KiB are 431 (Node's default, stated so a --max-http-header-size flag cannot raise it).
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 2_000, maxHeaderSize: 16 * 1024 },
    clientErrorHandler,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false },
    // One line per request, written on response below (Fastify's default is two).
    logController: new LogController({ disableRequestLogging: true }),
  })
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed')
  })
  await app.register(healthRoutes, { database: ctx.database })
  await app.register(restPlugin, { ctx, prefix: '/_/api/4' })
  await app.register(graphqlPlugin, { ctx })
  return app
}
