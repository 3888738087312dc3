/**
 * The per-IP sign-in limit for the sign-in mutations whose error enums have no
 * RATE_LIMIT_EXCEEDED (signInPasswordless, signInIDP in the 2.2 SDL): the refusal is a GraphQL
 * error with the retry time in its message, and the field is null.
 */
import { GraphQLError } from 'graphql'
import { readTenantConfig } from '../../domain/config/tenant-config.js'
import { consumeRateLimit } from '../../domain/abuse/rate-limit.js'
import type { GraphQLContext } from '../context.js'

export async function enforceLoginLimit(context: GraphQLContext): Promise<void> {
  const refused = await consumeRateLimit(context.ctx, await readTenantConfig(context.ctx.db), 'loginPerIp', context.actor.ip)
  if (refused) throw new GraphQLError(`${refused.message} (RATE_LIMIT_EXCEEDED)`)
}
