/**
 * Sign-up, sign-in, sessions and the password-reset flow. Access checks use Contember's
 * ForbiddenError messages and run where Contember runs them (global scope only for all of these).
 */
import { rolesAllow, type Action, type ActionMeta } from '../../domain/acl/permissions.js'
import { BCRYPT_HASH } from '../../domain/crypto/passwords.js'
import { checkResetPasswordToken, createResetPasswordRequest, resetPassword } from '../../domain/identity/password-reset.js'
import { createSessionToken, signIn, type SessionIssued } from '../../domain/identity/sign-in.js'
import { signUp, type SignUpPassword } from '../../domain/identity/sign-up.js'
import { signOut } from '../../domain/sessions/sign-out.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess, UserInputError } from '../errors.js'
import { TenantRole } from '../../domain/acl/permissions.js'
import { payload } from './business-result.js'

export function allow(context: GraphQLContext, action: Action, message: string, meta?: ActionMeta): void {
  requireAccess(rolesAllow(context.auth.roles, action, meta), message)
}

const sessionResult = (issued: SessionIssued) => ({ token: issued.token, person: issued.person, backupCodes: issued.backupCodes ?? null })

interface SignUpArgs { email: string, password?: string | null, passwordHash?: string | null, roles?: string[] | null, name?: string | null, captchaToken?: string | null }
interface SignInArgs { email: string, password: string, expiration?: number | null, otpToken?: string | null }

/**
 * PUBLIC_SIGN_UP lets the login token sign up plain persons (the seed's "sign-up from a public
 * endpoint"), with a password or none, never with roles or an imported hash. Off (the default),
 * the login token gets Contember's ForbiddenError.
 */
function isPublicSignUp(context: GraphQLContext, args: SignUpArgs): boolean {
  return context.ctx.config.publicSignUp && context.auth.roles.includes(TenantRole.LOGIN)
    && (args.roles ?? []).length === 0 && !args.passwordHash
}
interface CreateSessionTokenArgs { email?: string | null, personId?: string | null, expiration?: number | null }

export const authResolvers = {
  Query: {
    async checkResetPasswordToken(_: unknown, args: { requestId: string, token: string }, context: GraphQLContext) {
      allow(context, 'person:resetPassword', 'You are not allowed to check a reset password token')
      return checkResetPasswordToken(context.ctx, args.requestId, args.token)
    },
  },
  Mutation: {
    async signUp(_: unknown, args: SignUpArgs, context: GraphQLContext) {
      const roles = args.roles ?? []
      const publicRequest = !rolesAllow(context.auth.roles, 'person:signUp', { roles }) && isPublicSignUp(context, args)
      if (!publicRequest) allow(context, 'person:signUp', 'You are not allowed to sign up', { roles })
      let password: SignUpPassword = { kind: 'none' }
      if (args.password) {
        password = { kind: 'plain', password: args.password }
      } else if (args.passwordHash) {
        // Contember accepted only $2b$ although it writes $2a$; every bcrypt flavour is accepted here.
        if (!BCRYPT_HASH.test(args.passwordHash)) throw new UserInputError('Invalid password hash. Only bcrypt hashes ($2a$, $2b$, $2y$) are accepted.')
        password = { kind: 'hash', hash: args.passwordHash }
      }
      const outcome = await signUp(context.ctx, context.actor, {
        email: args.email, password, roles, name: args.name, callerApiKeyId: context.auth.apiKeyId,
        publicRequest: publicRequest ? { captchaToken: args.captchaToken } : undefined,
      })
      return payload(outcome, outcome.ok ? { person: outcome.person } : null)
    },

    async signIn(_: unknown, args: SignInArgs, context: GraphQLContext) {
      allow(context, 'person:signIn', 'You are not allowed to sign in')
      const outcome = await signIn(context.ctx, context.actor, args)
      return payload(outcome, outcome.ok ? sessionResult(outcome) : null)
    },

    async createSessionToken(_: unknown, args: CreateSessionTokenArgs, context: GraphQLContext) {
      allow(context, 'person:createSessionToken', 'You are not allowed to create a session key')
      const identifier = args.email ? { email: args.email } : args.personId ? { personId: args.personId } : undefined
      if (!identifier) throw new UserInputError('Please provide either email or personId')
      const outcome = await createSessionToken(context.ctx, context.actor, identifier, args.expiration, (targetRoles) =>
        allow(context, 'person:createSessionToken', 'You are not allowed to create a session key for this person.', { roles: targetRoles }))
      return payload(outcome, outcome.ok ? sessionResult(outcome) : null)
    },

    async signOut(_: unknown, args: { all?: boolean | null }, context: GraphQLContext) {
      const outcome = await signOut(context.ctx, context.actor, context.auth, args.all === true, () =>
        allow(context, 'person:signOut', 'You are not allowed to sign out'))
      return { ...payload(outcome), logoutUrl: outcome.ok ? outcome.logoutUrl : null }
    },

    async createResetPasswordRequest(
      _: unknown, args: { email: string, options?: { mailProject?: string | null, mailVariant?: string | null } | null, captchaToken?: string | null }, context: GraphQLContext,
    ) {
      allow(context, 'person:resetPassword', 'You are not allowed to initialize reset password request')
      return payload(await createResetPasswordRequest(context.ctx, context.actor, args.email, args.options ?? {}, args.captchaToken))
    },

    async resetPassword(_: unknown, args: { token: string, password: string }, context: GraphQLContext) {
      allow(context, 'person:resetPassword', 'You are not allowed to perform reset password reset')
      return payload(await resetPassword(context.ctx, context.actor, args.token, args.password))
    },
  },
}
