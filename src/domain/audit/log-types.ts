/**
 * The event types of the audit log. Contember 2.2's `auth_log_type` values are shown as they are.
 * Our code also writes types 2.2 does not have (below, with why); authLog shows them too, under
 * their own names: 2.2 declares AuthLogEntry.type as a String precisely because the set grows, so
 * a 2.2 client treats an unknown name as an unknown event rather than failing. Nothing is renamed
 * or hidden, so the log stays complete. Adding a type means listing it here (a test checks that
 * every type our code writes is listed).
 */
export const CONTEMBER_AUTH_LOG_TYPES: readonly string[] = [
  // 2.1
  'login', 'create_session_token', 'idp_login', 'password_reset_init', 'password_reset', 'password_change', 'email_change',
  '2fa_disable', '2fa_enable', 'passwordless_login_init', 'passwordless_login_exchange', 'passwordless_login', 'person_disable',
  // 2.2 authentication and sessions
  'email_verify_init', 'email_verify_complete', 'email_change_init', 'email_change_complete', 'unusual_login_detected',
  'step_up_required', 'session_revoked_by_user', 'forced_sign_out',
  // 2.2 authorization and administration
  'global_role_grant', 'global_role_revoke', 'project_membership_create', 'project_membership_update', 'project_membership_remove',
  'idp_role_mapped', 'idp_role_mapping_failed', 'api_key_create', 'api_key_disable', 'idp_create', 'idp_update', 'idp_disable',
  'idp_enable', 'idp_disconnect', 'project_create', 'project_update', 'project_secret_change', 'mail_template_change',
  'tenant_config_change', 'person_invite',
  // 2.2 further values
  'backup_code_generated', 'backup_code_used', 'backup_code_regenerated', 'email_otp_sent', 'mfa_enrollment_required', 'mfa_reset',
  'session_expired_idle', 'session_policy_applied', 'auth_policy_change', 'idp_session_revalidated', 'idp_session_revoked',
  'idp_session_revalidation_failed', 'idp_logout_initiated', 'idp_backchannel_logout',
]

/** Types only we write, and why 2.2 has no counterpart. */
export const EXTENSION_AUTH_LOG_TYPES: Readonly<Record<string, string>> = {
  sign_up: 'signUp (2.2 does not log it)',
  sign_out: 'signOut (2.2 does not log it)',
  profile_change: 'changeProfile/changeMyProfile without an e-mail change (2.2 logs only email_change)',
  passwordless_toggle: 'enableMyPasswordless/disableMyPasswordless',
  '2fa_prepare': 'prepareOtp (2.2 logs only 2fa_enable on confirmation)',
  bootstrap: 'root/login credentials provisioned at start-up',
  tenant_create: 'REST /_/api/4: tenant created',
  tenant_edit: 'REST: tenant edited',
  tenant_archive: 'REST: tenant deleted without dropping its tables',
  tenant_restore: 'REST: archived tenant restored',
  tenant_purge: 'REST: tenant purged',
  tenant_install: 'REST: tenant installed (administrator created or linked)',
  tenant_user_password_reset: 'REST: a tenant user\'s password reset',
  tenants_plan_create: 'REST: plan created',
  tenants_plan_edit: 'REST: plan edited',
  tenants_plan_delete: 'REST: plan deleted',
  tenants_api_key_create: 'REST: tenants API key created',
  tenants_api_key_delete: 'REST: tenants API key deleted',
}
