/**
 * Resolver modules merged into one map. Each module owns a group of operations and the types
 * only it returns; the merge fails loudly if two modules define the same field.
 */
import { DateTime, Interval, Json } from './scalars.js'
import { identityLoaders, identityResolvers } from './identity.js'
import { projectResolvers } from './projects.js'
import { memberLoaders, memberResolvers } from './members.js'
import { inviteResolvers } from './invites.js'
import { projectApiKeyResolvers } from './api-keys-project.js'
import { mailTemplateResolvers } from './mail-templates.js'
import { otpResolvers } from './otp.js'
import { idpResolvers } from './idp.js'
import { authResolvers } from './auth.js'
import { personResolvers } from './persons.js'
import { globalApiKeyResolvers } from './api-keys-global.js'
import { configurationResolvers } from './configuration.js'
import { passwordlessResolvers } from './passwordless.js'
import { tenantInfoLoaders } from './tenant-info.js'
import { mfaExtrasLoaders, mfaExtrasResolvers } from './mfa-extras.js'
import { emailVerificationLoaders, emailVerificationResolvers } from './email-verification.js'
import { sessionLoaders, sessionResolvers } from './sessions.js'
import { auditLogResolvers } from './audit-log.js'
import { adminListResolvers } from './admin-lists.js'
import { authPolicyResolvers } from './auth-policies.js'

type ResolverMap = Record<string, Record<string, unknown>>

function merge(...maps: ResolverMap[]): ResolverMap {
  const merged: ResolverMap = {}
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map)) {
      merged[type] ??= {}
      for (const [field, resolver] of Object.entries(fields)) {
        if (field in merged[type]) throw new Error(`resolver ${type}.${field} is defined twice`)
        merged[type][field] = resolver
      }
    }
  }
  return merged
}

export const resolvers = { Json, DateTime, Interval, ...merge(mfaExtrasResolvers, emailVerificationResolvers, identityResolvers, otpResolvers, idpResolvers, authResolvers, personResolvers, globalApiKeyResolvers, configurationResolvers, passwordlessResolvers,
  projectResolvers, memberResolvers, inviteResolvers, projectApiKeyResolvers, mailTemplateResolvers, sessionResolvers, auditLogResolvers, adminListResolvers, authPolicyResolvers) }
export const loaders = merge(mfaExtrasLoaders, emailVerificationLoaders, identityLoaders, memberLoaders, sessionLoaders, tenantInfoLoaders)
