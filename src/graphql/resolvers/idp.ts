/**
 * Identity providers (Contember §7.6): addIDP, updateIDP, disableIDP, enableIDP and
 * identityProviders for administrators (global `idp:*`), initSignInIDP and signInIDP for the
 * login token. Access messages are Contember's. Secrets never appear in any answer.
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import type { Result } from '../../domain/errors.js'
import { addIdp, listIdps, setIdpDisabled, updateIdp, type IdpOptionsInput } from '../../domain/idp/manage.js'
import { initSignInIdp, signInIdp } from '../../domain/idp/sign-in.js'
import { enforceLoginLimit } from './rate-limits.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess } from '../errors.js'

/** Responses without the deprecated `errors` list (the IdP management mutations). */
function plain(result: Result<unknown>) {
  if (result.ok) return { ok: true, error: null }
  return { ok: false, error: { code: result.code, developerMessage: result.message } }
}

/** Responses that still carry the deprecated `errors` list (the two sign-in mutations). */
function withErrors<T>(result: Result<T>) {
  if (result.ok) return { ok: true, errors: [], error: null, result: result.value }
  const error = { code: result.code, developerMessage: result.message, endUserMessage: null }
  return { ok: false, errors: [error], error, result: null }
}

const allowed = (context: GraphQLContext, action: Parameters<typeof rolesAllow>[1]) => rolesAllow(context.auth.roles, action)

interface AddArgs { identityProvider: string, type: string, configuration: unknown, options?: IdpOptionsInput | null }
interface UpdateArgs { identityProvider: string, type?: string | null, configuration?: unknown, options?: IdpOptionsInput | null, mergeConfiguration?: boolean | null }
interface InitArgs { identityProvider: string, data?: unknown, redirectUrl?: string | null }
interface SignInArgs {
  identityProvider: string
  data?: unknown
  expiration?: number | null
  idpResponse?: { url: string } | null
  redirectUrl?: string | null
  sessionData?: unknown
}

export const idpResolvers = {
  Query: {
    async identityProviders(_: unknown, __: unknown, context: GraphQLContext) {
      requireAccess(allowed(context, 'idp:list'), 'You are not allowed to list IDP')
      return listIdps(context.ctx)
    },
  },
  Mutation: {
    async addIDP(_: unknown, args: AddArgs, context: GraphQLContext) {
      requireAccess(allowed(context, 'idp:add'), 'You are not allowed to add IDP')
      return plain(await addIdp(context.ctx, context.actor, {
        slug: args.identityProvider, type: args.type, configuration: args.configuration, options: args.options,
      }))
    },
    async updateIDP(_: unknown, args: UpdateArgs, context: GraphQLContext) {
      requireAccess(allowed(context, 'idp:update'), 'You are not allowed to update IDP')
      return plain(await updateIdp(context.ctx, context.actor, {
        slug: args.identityProvider, type: args.type, configuration: args.configuration,
        options: args.options, mergeConfiguration: args.mergeConfiguration,
      }))
    },
    async disableIDP(_: unknown, args: { identityProvider: string }, context: GraphQLContext) {
      requireAccess(allowed(context, 'idp:disable'), 'You are not allowed to disable IDP')
      return plain(await setIdpDisabled(context.ctx, context.actor, args.identityProvider, true))
    },
    async enableIDP(_: unknown, args: { identityProvider: string }, context: GraphQLContext) {
      requireAccess(allowed(context, 'idp:enable'), 'You are not allowed to enable IDP')
      return plain(await setIdpDisabled(context.ctx, context.actor, args.identityProvider, false))
    },
    async initSignInIDP(_: unknown, args: InitArgs, context: GraphQLContext) {
      requireAccess(allowed(context, 'person:createIdPUrl'), 'You are not allowed to create a redirect URL for IDP')
      // The deprecated top-level redirectUrl is Contember's older spelling of data.redirectUrl.
      const data = args.data ?? (args.redirectUrl ? { redirectUrl: args.redirectUrl } : undefined)
      return withErrors(await initSignInIdp(context.ctx, args.identityProvider, data))
    },
    async signInIDP(_: unknown, args: SignInArgs, context: GraphQLContext) {
      requireAccess(allowed(context, 'person:signInIdp'), 'You are not allowed to person IDP sign in')
      await enforceLoginLimit(context)
      const data = args.data ?? {
        url: args.idpResponse?.url,
        redirectUrl: args.redirectUrl ?? undefined,
        sessionData: args.sessionData ?? undefined,
      }
      return withErrors(await signInIdp(context.ctx, context.actor, args.identityProvider, data, args.expiration))
    },
  },
}
