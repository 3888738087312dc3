/**
 * authLog (2.2): the audit log of both surfaces, for holders of system:viewAuthLog (super_admin).
 * Event types pass through under their stored names (see domain/audit/log-types.ts).
 */
import { AUTH_LOG_DEFAULT_LIMIT, AUTH_LOG_MAX_LIMIT, readAuthLog, type AuthLogFilter } from '../../domain/audit/log.js'
import type { GraphQLContext } from '../context.js'
import { allow } from './auth.js'
import { pageOf, uuidFilter } from './pagination.js'

interface AuthLogArgs { filter?: AuthLogFilter | null, limit?: number | null, offset?: number | null }

export const auditLogResolvers = {
  Query: {
    async authLog(_: unknown, args: AuthLogArgs, context: GraphQLContext) {
      allow(context, 'system:viewAuthLog', 'You are not allowed to view the auth log')
      const { limit, offset } = pageOf(args, AUTH_LOG_DEFAULT_LIMIT, AUTH_LOG_MAX_LIMIT)
      const filter = args.filter ?? {}
      return readAuthLog(context.ctx.db, {
        ...filter,
        invokedByIdentityId: uuidFilter(filter.invokedByIdentityId, 'filter.invokedByIdentityId'),
        personId: uuidFilter(filter.personId, 'filter.personId'),
        targetPersonId: uuidFilter(filter.targetPersonId, 'filter.targetPersonId'),
      }, limit, offset)
    },
  },
}
