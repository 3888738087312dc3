/** `configuration` and `configure`: the tenant-wide passwordless settings (global scope). */
import { configure } from '../../domain/config/configure.js'
import { readTenantConfig, type TenantConfigInput } from '../../domain/config/tenant-config.js'
import type { GraphQLContext } from '../context.js'
import { allow } from './auth.js'
import { payload } from './business-result.js'

export const configurationResolvers = {
  Query: {
    async configuration(_: unknown, __: unknown, context: GraphQLContext) {
      allow(context, 'system:viewConfig', 'You are not allowed to view configuration')
      return readTenantConfig(context.ctx.db)
    },
  },
  Mutation: {
    async configure(_: unknown, args: { config: TenantConfigInput }, context: GraphQLContext) {
      allow(context, 'system:configure', 'You are not allowed to configure')
      return payload(await configure(context.ctx, context.actor, args.config))
    },
  },
}
