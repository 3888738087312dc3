/** What every resolver receives. */
import type { FastifyReply } from 'fastify'
import type { Actor, DomainContext } from '../domain/context.js'
import type { Authenticated } from '../domain/tokens/authenticate.js'

export interface GraphQLContext {
  ctx: DomainContext
  auth: Authenticated
  /** The caller as the audit log records it (identity, IP, user agent, request id). */
  actor: Actor
  reply: FastifyReply
}
