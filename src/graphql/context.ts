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
  /**
   * The document holds no mutation, so nothing this request does writes, and what authentication
   * read (auth.person) is still what a read would return.
   */
  readOnly: boolean
}
