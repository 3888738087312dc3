/**
 * Passwordless sign-in (Contember §7.5): initSignInPasswordless (login token), the OTP exchange
 * and signInPasswordless (login token), and a person's own enable/disable switch.
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import { activatePasswordlessOtp, initSignInPasswordless, signInPasswordless } from '../../domain/passwordless/sign-in.js'
import { toggleMyPasswordless } from '../../domain/passwordless/toggle.js'
import type { ValidationType } from '../../domain/passwordless/token.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess } from '../errors.js'
import { payload } from './business-result.js'
import { enforceLoginLimit } from './rate-limits.js'

async function toggle(context: GraphQLContext, enabled: boolean) {
  // Contember checks for a person before access.
  if (!context.auth.personId) {
    return payload({ ok: false, code: 'NOT_A_PERSON', message: 'Only a person can toggle passwordless sign-in' })
  }
  requireAccess(rolesAllow(context.auth.roles, 'person:togglePasswordless'), 'You are not allowed to enable passwordless')
  return payload(await toggleMyPasswordless(context.ctx, context.actor, context.auth.personId, enabled))
}

export const passwordlessResolvers = {
  Mutation: {
    async initSignInPasswordless(
      _: unknown, args: { email: string, options?: { mailVariant?: string | null, mailProject?: string | null } | null, captchaToken?: string | null }, context: GraphQLContext,
    ) {
      requireAccess(rolesAllow(context.auth.roles, 'person:requestPasswordlessSignIn'), 'You are not allowed to request passwordless sign in')
      const result = await initSignInPasswordless(context.ctx, context.actor, {
        email: args.email, mailVariant: args.options?.mailVariant, mailProject: args.options?.mailProject, captchaToken: args.captchaToken,
      })
      return payload(result, result.ok ? result.value : null)
    },
    async activatePasswordlessOtp(_: unknown, args: { requestId: string, token: string, otpHash: string }, context: GraphQLContext) {
      requireAccess(rolesAllow(context.auth.roles, 'person:passwordlessSignIn'), 'You are not allowed to activate passwordless OTP')
      return payload(await activatePasswordlessOtp(context.ctx, context.actor, args))
    },
    async signInPasswordless(
      _: unknown,
      args: { requestId: string, validationType: ValidationType, token: string, expiration?: number | null, mfaOtp?: string | null },
      context: GraphQLContext,
    ) {
      requireAccess(rolesAllow(context.auth.roles, 'person:passwordlessSignIn'), 'You are not allowed to sign in using passwordless')
      await enforceLoginLimit(context)
      const result = await signInPasswordless(context.ctx, context.actor, args)
      return payload(result, result.ok ? result.value : null)
    },
    enableMyPasswordless: (_: unknown, __: unknown, context: GraphQLContext) => toggle(context, true),
    disableMyPasswordless: (_: unknown, __: unknown, context: GraphQLContext) => toggle(context, false),
  },
}
