/** POST /auth/verify: succeeds when the guards (address, key, signature) let the request through. */
import type { FastifyInstance } from 'fastify'

export async function authRoutes(app: FastifyInstance): Promise<void> {
  app.post('/auth/verify', async () => ({ verified: true }))
}
