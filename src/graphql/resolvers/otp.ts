/**
 * prepareOtp, confirmOtp, disableOtp (Contember §7.4): self-service, access `person:setupOtp`.
 * Contember answers a caller without a person with "Internal server error"; none of the three
 * error enums has NOT_A_PERSON (prepareOtp has no error type at all), so we refuse it as a
 * ForbiddenError with a clear message instead.
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import { confirmOtp, disableOtp, prepareOtp } from '../../domain/mfa/otp.js'
import type { GraphQLContext } from '../context.js'
import { ForbiddenError, requireAccess } from '../errors.js'
import { payload } from './business-result.js'

function requireOtpPerson(context: GraphQLContext): string {
  requireAccess(rolesAllow(context.auth.roles, 'person:setupOtp'), 'You are not allowed to setup a OTP')
  if (!context.auth.personId) throw new ForbiddenError('Only a person can set up two-factor authentication: this token has no person')
  return context.auth.personId
}

export const otpResolvers = {
  Mutation: {
    async prepareOtp(_: unknown, args: { label?: string | null }, context: GraphQLContext) {
      const personId = requireOtpPerson(context)
      const prepared = await prepareOtp(context.ctx, context.actor, personId, args.label)
      return { ok: true, result: prepared }
    },
    async confirmOtp(_: unknown, args: { otpToken: string }, context: GraphQLContext) {
      const personId = requireOtpPerson(context)
      const outcome = await confirmOtp(context.ctx, context.actor, personId, args.otpToken)
      return payload(outcome, outcome.ok ? { backupCodes: outcome.value } : null)
    },
    async disableOtp(_: unknown, __: unknown, context: GraphQLContext) {
      const personId = requireOtpPerson(context)
      return payload(await disableOtp(context.ctx, context.actor, personId))
    },
  },
}
