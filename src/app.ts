/**
 * buildApp: the Fastify instance with both surfaces on one data layer. Everything it needs comes
 * in as dependencies, so tests build it exactly as main.ts does.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
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
    // Slow clients must not hold sockets forever (slow-loris).
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
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
