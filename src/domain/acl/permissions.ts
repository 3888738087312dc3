/**
 * Contember's PermissionsFactory as data: which role may perform which action, with the two
 * conditions on role metadata. super_admin may do everything. Evaluation unions the identity's
 * global roles with the roles a scope contributes (a project scope adds project_member /
 * project_admin and direct membership permissions; see acl/project-scope.ts).
 */
export const TenantRole = {
  LOGIN: 'login',
  SELF: 'self',
  PERSON: 'person',
  SUPER_ADMIN: 'super_admin',
  PROJECT_CREATOR: 'project_creator',
  PROJECT_MEMBER: 'project_member',
  PROJECT_ADMIN: 'project_admin',
  ENTRYPOINT_DEPLOYER: 'entrypoint_deployer',
} as const

export const TENANT_ROLES: readonly string[] = Object.values(TenantRole)

/** Roles a project_admin may hand out (A) and roles it may never act upon (F). */
const ASSIGNABLE_BY_PROJECT_ADMIN = new Set<string>([TenantRole.LOGIN, TenantRole.PROJECT_ADMIN, TenantRole.ENTRYPOINT_DEPLOYER])
const FORBIDDEN_TARGETS = new Set<string>([TenantRole.SUPER_ADMIN, TenantRole.PROJECT_CREATOR])

export type Action =
  | 'person:signIn' | 'person:resetPassword' | 'person:createIdPUrl' | 'person:signInIdp' | 'person:passwordlessSignIn'
  | 'person:requestPasswordlessSignIn' | 'person:signUp' | 'person:view' | 'person:changeMyPassword' | 'person:changeMyProfile'
  | 'person:togglePasswordless' | 'person:signOut' | 'person:setupOtp' | 'person:createSessionToken' | 'person:disable'
  | 'person:changeProfile' | 'person:changePassword' | 'person:invite' | 'person:invite_unmanaged' | 'person:viewSessions'
  | 'person:forceSignOut' | 'person:resetMfa' | 'person:list'
  | 'person:verifyEmail' | 'person:disconnectIdp' | 'person:viewIdp'
  | 'project:view' | 'project:create' | 'project:update' | 'project:setSecret' | 'project:viewMembers' | 'project:addMember'
  | 'project:updateMember' | 'project:removeMember'
  | 'apiKey:create' | 'apiKey:disable' | 'apiKey:createGlobal' | 'apiKey:list'
  | 'identity:addGlobalRoles' | 'identity:removeGlobalRoles' | 'identity:viewPermissions'
  | 'mailTemplate:add' | 'mailTemplate:remove' | 'mailTemplate:list'
  | 'idp:add' | 'idp:update' | 'idp:disable' | 'idp:enable' | 'idp:list'
  | 'entrypoint:deployEntrypoint' | 'system:configure' | 'system:viewConfig' | 'system:viewAuthLog' | 'system:manageAuthPolicies'

export interface ActionMeta {
  /** Roles being granted (signUp, createGlobalApiKey, global role changes) or the target person's roles. */
  roles?: readonly string[]
}

type Condition = (meta: ActionMeta) => boolean
const rolesAssignable: Condition = (meta) => (meta.roles ?? []).every((role) => ASSIGNABLE_BY_PROJECT_ADMIN.has(role))
const targetNotPrivileged: Condition = (meta) => !(meta.roles ?? []).some((role) => FORBIDDEN_TARGETS.has(role))

const GRANTS: Record<string, Partial<Record<Action, Condition | true>>> = {
  [TenantRole.LOGIN]: {
    'person:signIn': true, 'person:resetPassword': true, 'person:createIdPUrl': true, 'person:signInIdp': true,
    'person:passwordlessSignIn': true, 'person:requestPasswordlessSignIn': true,
    // 2.2 e-mail verification / change confirmation: the mailed token is the proof, as for a reset.
    'person:verifyEmail': true,
  },
  [TenantRole.PERSON]: {
    'person:view': true, 'person:changeMyPassword': true, 'person:changeMyProfile': true, 'person:togglePasswordless': true,
    'person:signOut': true, 'person:setupOtp': true,
    'person:verifyEmail': true, 'person:disconnectIdp': true,
  },
  [TenantRole.PROJECT_MEMBER]: { 'project:view': true },
  [TenantRole.PROJECT_ADMIN]: {
    'project:view': true,
    'apiKey:create': true, 'apiKey:disable': true, 'apiKey:createGlobal': rolesAssignable,
    'person:signUp': rolesAssignable, 'identity:addGlobalRoles': rolesAssignable, 'identity:removeGlobalRoles': rolesAssignable,
    'person:createSessionToken': targetNotPrivileged, 'person:disable': targetNotPrivileged,
    'person:changeProfile': targetNotPrivileged, 'person:changePassword': targetNotPrivileged,
    'person:viewIdp': targetNotPrivileged,
    'project:viewMembers': true, 'project:addMember': true, 'project:updateMember': true, 'project:removeMember': true,
    'person:invite': true, 'person:invite_unmanaged': true,
    'mailTemplate:add': true, 'mailTemplate:remove': true, 'mailTemplate:list': true,
    'idp:add': true, 'idp:update': true, 'idp:disable': true, 'idp:enable': true, 'idp:list': true,
    'entrypoint:deployEntrypoint': true, 'system:configure': true, 'system:viewConfig': true,
  },
  [TenantRole.PROJECT_CREATOR]: { 'project:create': true },
  [TenantRole.ENTRYPOINT_DEPLOYER]: { 'entrypoint:deployEntrypoint': true },
}

/** Whether any of the roles grants the action (super_admin grants all). */
export function rolesAllow(roles: readonly string[], action: Action, meta: ActionMeta = {}): boolean {
  for (const role of roles) {
    if (role === TenantRole.SUPER_ADMIN) return true
    const grant = GRANTS[role]?.[action]
    if (grant === true || (grant && grant(meta))) return true
  }
  return false
}
