/**
 * Auth policies (2.2). Listing follows the SDL's `system:configure` (super_admin, project_admin)
 * or system:manageAuthPolicies; changing them needs system:manageAuthPolicies (super_admin): a
 * project admin may read what applies but not loosen MFA for everyone.
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import {
  createAuthPolicy, deleteAuthPolicy, listAuthPolicies, updateAuthPolicy, type AuthPolicyInput,
} from '../../domain/auth-policies/policies.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess } from '../errors.js'
import { allow } from './auth.js'
import { userInputOnDomainError } from './business-result.js'

type Outcome = { ok: true } | { ok: false, code: string, message: string }
const result = (outcome: Outcome, extra: Record<string, unknown> = {}) =>
  outcome.ok ? { ok: true, error: null, ...extra } : { ok: false, error: { code: outcome.code, developerMessage: outcome.message }, result: null }

const manage = (context: GraphQLContext) => allow(context, 'system:manageAuthPolicies', 'You are not allowed to manage auth policies')

export const authPolicyResolvers = {
  Query: {
    async authPolicies(_: unknown, __: unknown, context: GraphQLContext) {
      const { roles } = context.auth
      requireAccess(rolesAllow(roles, 'system:manageAuthPolicies') || rolesAllow(roles, 'system:configure'), 'You are not allowed to view auth policies')
      return listAuthPolicies(context.ctx.db)
    },
  },
  Mutation: {
    async createAuthPolicy(_: unknown, args: { policy: AuthPolicyInput }, context: GraphQLContext) {
      manage(context)
      const outcome = await userInputOnDomainError(createAuthPolicy(context.ctx, context.actor, args.policy))
      return result(outcome, outcome.ok ? { result: { id: outcome.id } } : {})
    },
    async updateAuthPolicy(_: unknown, args: { id: string, policy: AuthPolicyInput }, context: GraphQLContext) {
      manage(context)
      return result(await userInputOnDomainError(updateAuthPolicy(context.ctx, context.actor, args.id, args.policy)))
    },
    async deleteAuthPolicy(_: unknown, args: { id: string }, context: GraphQLContext) {
      manage(context)
      return result(await deleteAuthPolicy(context.ctx, context.actor, args.id))
    },
  },
}
