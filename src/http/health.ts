/** Liveness (the process answers) and readiness (the database answers within a bound). */
import type { FastifyInstance } from 'fastify'
import type { Database } from '../db/client.js'
import type { LogLevel } from '../config.js'

const READY_TIMEOUT_MS = 2000
const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

export async function healthRoutes(app: FastifyInstance, opts: { database: Database }): Promise<void> {
  // Probes come every few seconds: log them at warn at most, never louder than LOG_LEVEL allows.
  const configured = app.log.level as LogLevel
  const logLevel = LEVELS.indexOf(configured) > LEVELS.indexOf('warn') ? configured : 'warn'
  app.get('/health/live', { logLevel }, async () => ({ status: 'ok' }))
  app.get('/health/ready', { logLevel }, async (request, reply) => {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        opts.database.ping(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS) }),
      ])
      return { status: 'ok', database: 'up' }
    } catch (error) {
      request.log.warn({ err: (error as Error).message }, 'readiness: database unavailable')
      return reply.code(503).send({ status: 'unavailable', database: 'down' })
    } finally {
      clearTimeout(timer)
    }
  })
}
