/**
 * `configuration` and `configure` (global scope): the 2.2 Config type. Values that default to the
 * environment (password minimum length, session lifetimes) are shown as they apply; the captcha
 * secret is write-only and never shown.
 */
import { configure } from '../../domain/config/configure.js'
import { minutesInterval } from '../../domain/config/interval.js'
import { readTenantConfig, type TenantConfigInput } from '../../domain/config/tenant-config.js'
import type { GraphQLContext } from '../context.js'
import { allow } from './auth.js'
import { payload } from './business-result.js'

export const configurationResolvers = {
  Query: {
    async configuration(_: unknown, __: unknown, context: GraphQLContext) {
      allow(context, 'system:viewConfig', 'You are not allowed to view configuration')
      const config = await readTenantConfig(context.ctx.db)
      const env = context.ctx.config
      return {
        ...config,
        password: { ...config.password, minLength: config.password.minLength ?? env.passwords.minLength },
        login: {
          ...config.login,
          defaultTokenExpiration: config.login.defaultTokenExpiration ?? minutesInterval(env.sessions.defaultExpirationMinutes),
          maxTokenExpiration: config.login.maxTokenExpiration ?? minutesInterval(env.sessions.maxExpirationMinutes),
        },
        captcha: { provider: config.captcha.provider, threshold: config.captcha.threshold, protect: config.captcha.protect },
      }
    },
  },
  Mutation: {
    async configure(_: unknown, args: { config: TenantConfigInput }, context: GraphQLContext) {
      allow(context, 'system:configure', 'You are not allowed to configure')
      return payload(await configure(context.ctx, context.actor, args.config))
    },
  },
}
