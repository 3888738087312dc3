/** Liveness (the process answers) and readiness (the database answers within a bound). */
import type { FastifyInstance } from 'fastify'
import type { Database } from '../db/client.js'

const READY_TIMEOUT_MS = 2000

export async function healthRoutes(app: FastifyInstance, opts: { database: Database }): Promise<void> {
  app.get('/health/live', { logLevel: 'warn' }, async () => ({ status: 'ok' }))
  app.get('/health/ready', { logLevel: 'warn' }, async (request, reply) => {
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
