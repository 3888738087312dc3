/** createGlobalApiKey, disableApiKey and the global-role patches (all checked in global scope only). */
import { SHA256_HEX } from '../../domain/crypto/tokens.js'
import { patchGlobalRoles } from '../../domain/identity/global-roles.js'
import { createGlobalApiKey, disableApiKey } from '../../domain/tokens/global-api-keys.js'
import type { GraphQLContext } from '../context.js'
import { UserInputError } from '../errors.js'
import { allow } from './auth.js'
import { payload, userInputOnDomainError } from './business-result.js'

export const globalApiKeyResolvers = {
  Mutation: {
    async createGlobalApiKey(_: unknown, args: { description: string, roles?: string[] | null, tokenHash?: string | null }, context: GraphQLContext) {
      const roles = args.roles ?? []
      allow(context, 'apiKey:createGlobal', 'You are not allowed to create a global API key', { roles })
      if (typeof args.tokenHash === 'string' && !SHA256_HEX.test(args.tokenHash)) {
        throw new UserInputError('Invalid format of tokenHash. Must be hex-encoded sha256.')
      }
      const created = await userInputOnDomainError(createGlobalApiKey(context.ctx, context.actor, {
        description: args.description, roles, tokenHash: args.tokenHash ?? undefined,
      }))
      return payload({ ok: true }, { apiKey: created })
    },

    async disableApiKey(_: unknown, args: { id: string }, context: GraphQLContext) {
      allow(context, 'apiKey:disable', 'You are not allowed to disable api key')
      return payload(await disableApiKey(context.ctx, context.actor, args.id))
    },

    async addGlobalIdentityRoles(_: unknown, args: { identityId: string, roles: string[] }, context: GraphQLContext) {
      allow(context, 'identity:addGlobalRoles', 'You are not allowed to add global roles', { roles: args.roles })
      const outcome = await patchGlobalRoles(context.ctx, context.actor, args.identityId, { add: args.roles })
      return payload(outcome, outcome.ok ? { identity: outcome.identity } : null)
    },

    async removeGlobalIdentityRoles(_: unknown, args: { identityId: string, roles: string[] }, context: GraphQLContext) {
      allow(context, 'identity:removeGlobalRoles', 'You are not allowed to remove global roles', { roles: args.roles })
      const outcome = await patchGlobalRoles(context.ctx, context.actor, args.identityId, { remove: args.roles })
      return payload(outcome, outcome.ok ? { identity: outcome.identity } : null)
    },
  },
}
