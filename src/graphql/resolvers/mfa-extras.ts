/**
 * The 2.2 MFA operations beside TOTP: backup codes, e-mail OTP (self-service, `person:setupOtp`
 * like TOTP, refused for a token without a person) and the admin's resetPersonMfa
 * (`person:resetMfa` on the target's roles; super_admin). Person.emailOtpEnabled is batched.
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import { regenerateBackupCodes } from '../../domain/mfa/backup-codes.js'
import { confirmEmailOtp, disableEmailOtp, initEmailOtp } from '../../domain/mfa/email-otp.js'
import { resetPersonMfa } from '../../domain/mfa/reset.js'
import { emailOtpEnabledByPersonIds } from '../../domain/mfa/state.js'
import type { PersonRow } from '../../domain/identity/queries.js'
import type { GraphQLContext } from '../context.js'
import { ForbiddenError, requireAccess } from '../errors.js'
import { payload } from './business-result.js'

function requireMfaPerson(context: GraphQLContext, what: string): string {
  requireAccess(rolesAllow(context.auth.roles, 'person:setupOtp'), `You are not allowed to ${what}`)
  if (!context.auth.personId) throw new ForbiddenError(`Only a person can ${what}: this token has no person`)
  return context.auth.personId
}

export const mfaExtrasResolvers = {
  Mutation: {
    async regenerateBackupCodes(_: unknown, __: unknown, context: GraphQLContext) {
      const personId = requireMfaPerson(context, 'regenerate backup codes')
      const outcome = await regenerateBackupCodes(context.ctx, context.actor, personId)
      return payload(outcome, outcome.ok ? { backupCodes: outcome.value } : null)
    },
    async initEmailOtp(_: unknown, __: unknown, context: GraphQLContext) {
      const personId = requireMfaPerson(context, 'set up e-mail OTP')
      return payload(await initEmailOtp(context.ctx, context.actor, personId))
    },
    async confirmEmailOtp(_: unknown, args: { otpToken: string }, context: GraphQLContext) {
      const personId = requireMfaPerson(context, 'set up e-mail OTP')
      const outcome = await confirmEmailOtp(context.ctx, context.actor, personId, args.otpToken)
      return payload(outcome, outcome.ok ? { backupCodes: outcome.value } : null)
    },
    async disableEmailOtp(_: unknown, __: unknown, context: GraphQLContext) {
      const personId = requireMfaPerson(context, 'disable e-mail OTP')
      return payload(await disableEmailOtp(context.ctx, context.actor, personId))
    },
    async resetPersonMfa(_: unknown, args: { personId: string }, context: GraphQLContext) {
      requireAccess(rolesAllow(context.auth.roles, 'person:resetMfa'), 'You are not allowed to reset MFA of a person')
      return payload(await resetPersonMfa(context.ctx, context.actor, args.personId, (roles) =>
        requireAccess(rolesAllow(context.auth.roles, 'person:resetMfa', { roles }), 'You are not allowed to reset MFA of this person')))
    },
  },
}

export const mfaExtrasLoaders = {
  Person: {
    async emailOtpEnabled(queries: { obj: PersonRow }[], context: GraphQLContext) {
      const enabled = await emailOtpEnabledByPersonIds(context.ctx.db, queries.map((q) => q.obj.id))
      return queries.map((q) => enabled.get(q.obj.id) ?? false)
    },
  },
}
