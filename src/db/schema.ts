/**
 * The one data model behind both surfaces (DESIGN.md §1). Contember's tenant tables keep their
 * names and meaning; Chevereto's tenants, plans and API keys sit beside them. Secrets are never
 * stored in clear: tokens as SHA-256, passwords as argon2id/bcrypt, everything else that is
 * secret as AES-256-GCM ciphertext (columns named `*_encrypted`).
 */
import { sql } from 'drizzle-orm'
import {
  bigint, bigserial, boolean, index, integer, jsonb, pgTable, serial, smallint, text, timestamp, uniqueIndex, uuid, varchar,
} from 'drizzle-orm/pg-core'

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

export const identity = pgTable('identity', {
  id: uuid('id').primaryKey().defaultRandom(),
  roles: jsonb('roles').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  description: text('description'),
  createdAt: createdAt(),
})

export const person = pgTable('person', {
  id: uuid('id').primaryKey().defaultRandom(),
  identityId: uuid('identity_id').notNull().unique().references(() => identity.id, { onDelete: 'cascade' }),
  /** Normalized (trimmed, lower-cased) e-mail; NULL for IdP-only persons. */
  email: text('email').unique(),
  name: text('name'),
  passwordHash: text('password_hash'),
  idpOnly: boolean('idp_only').notNull().default(false),
  passwordlessEnabled: boolean('passwordless_enabled'),
  emailVerifiedAt: ts('email_verified_at'),
  disabledAt: ts('disabled_at'),
  /** Consecutive failed password sign-ins, for per-account backoff and lockout. */
  failedSignIns: integer('failed_sign_ins').notNull().default(0),
  lastFailedSignInAt: ts('last_failed_sign_in_at'),
  /** End of the MFA enrollment grace an auth policy grants, opened at the first sign-in under it. */
  mfaGraceUntil: ts('mfa_grace_until'),
  createdAt: createdAt(),
})

export const apiKey = pgTable('api_key', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  type: text('type').$type<'permanent' | 'session' | 'one_off'>().notNull(),
  identityId: uuid('identity_id').notNull().references(() => identity.id, { onDelete: 'cascade' }),
  /** Session lifetime in minutes as requested; NULL = the configured default. */
  expiration: integer('expiration'),
  expiresAt: ts('expires_at'),
  disabledAt: ts('disabled_at'),
  createdAt: createdAt(),
  lastUsedAt: ts('last_used_at'),
  lastIp: text('last_ip'),
  lastUserAgent: text('last_user_agent'),
  createdIp: text('created_ip'),
  createdUserAgent: text('created_user_agent'),
  trustForwardedInfo: boolean('trust_forwarded_info').notNull().default(false),
  /** Auth policy idleTimeout fixed at creation: a session unused this long is refused. NULL = none. */
  idleTimeoutSeconds: integer('idle_timeout_seconds'),
  /** The latest expires_at may slide to (auth policy rememberMeAllowed: false). NULL = no limit. */
  maxExpiresAt: ts('max_expires_at'),
}, (t) => [index('api_key_identity_idx').on(t.identityId)])

export const personToken = pgTable('person_token', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  personId: uuid('person_id').notNull().references(() => person.id, { onDelete: 'cascade' }),
  /** password_reset | passwordless | mfa_email_otp | email_verification | email_change */
  type: text('type').notNull(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  otpHash: text('otp_hash'),
  otpAttempts: integer('otp_attempts').notNull().default(0),
  /** Type-specific data without secrets, e.g. the new address of an e-mail change. */
  payload: jsonb('payload').$type<Record<string, unknown>>(),
  createdAt: createdAt(),
}, (t) => [index('person_token_person_idx').on(t.personId)])

export const personMfa = pgTable('person_mfa', {
  personId: uuid('person_id').primaryKey().references(() => person.id, { onDelete: 'cascade' }),
  otpUriEncrypted: text('otp_uri_encrypted'),
  otpActivatedAt: ts('otp_activated_at'),
  /** The last TOTP time step accepted, so that a code is usable once. */
  otpLastStep: bigint('otp_last_step', { mode: 'number' }),
  emailOtpEnabledAt: ts('email_otp_enabled_at'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

export const personBackupCode = pgTable('person_backup_code', {
  id: uuid('id').primaryKey().defaultRandom(),
  personId: uuid('person_id').notNull().references(() => person.id, { onDelete: 'cascade' }),
  codeHash: text('code_hash').notNull(),
  usedAt: ts('used_at'),
  createdAt: createdAt(),
}, (t) => [index('person_backup_code_person_idx').on(t.personId)])

export const identityProvider = pgTable('identity_provider', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  type: text('type').notNull(),
  /** Public configuration; the client secret / private key lives encrypted beside it. */
  configuration: jsonb('configuration').$type<Record<string, unknown>>().notNull(),
  secretEncrypted: text('secret_encrypted'),
  disabledAt: ts('disabled_at'),
  autoSignUp: boolean('auto_sign_up').notNull().default(false),
  exclusive: boolean('exclusive').notNull().default(false),
  initReturnsConfig: boolean('init_returns_config').notNull().default(false),
  createdAt: createdAt(),
})

/** A session signed in through an OIDC provider with RP-initiated logout: what signOut's logoutUrl needs. */
export const idpSession = pgTable('idp_session', {
  apiKeyId: uuid('api_key_id').primaryKey().references(() => apiKey.id, { onDelete: 'cascade' }),
  identityProviderId: uuid('identity_provider_id').notNull().references(() => identityProvider.id, { onDelete: 'cascade' }),
  /** The sign-in's ID token (sent back as id_token_hint), AES-256-GCM. */
  idTokenEncrypted: text('id_token_encrypted').notNull(),
  createdAt: createdAt(),
})

export const personIdentityProvider = pgTable('person_identity_provider', {
  id: uuid('id').primaryKey().defaultRandom(),
  personId: uuid('person_id').notNull().references(() => person.id, { onDelete: 'cascade' }),
  identityProviderId: uuid('identity_provider_id').notNull().references(() => identityProvider.id, { onDelete: 'cascade' }),
  externalIdentifier: text('external_identifier').notNull(),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('person_idp_external_uq').on(t.identityProviderId, t.externalIdentifier)])

export const project = pgTable('project', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  config: jsonb('config').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  /** Set when its tenant is deleted without drop_tables: hidden, restorable. */
  archivedAt: ts('archived_at'),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

export const projectMembership = pgTable('project_membership', {
  id: uuid('id').primaryKey().defaultRandom(),
  projectId: uuid('project_id').notNull().references(() => project.id, { onDelete: 'cascade' }),
  identityId: uuid('identity_id').notNull().references(() => identity.id, { onDelete: 'cascade' }),
  role: text('role').notNull(),
}, (t) => [
  uniqueIndex('project_membership_uq').on(t.projectId, t.identityId, t.role),
  index('project_membership_identity_idx').on(t.identityId),
])

export const projectMembershipVariable = pgTable('project_membership_variable', {
  id: uuid('id').primaryKey().defaultRandom(),
  membershipId: uuid('membership_id').notNull().references(() => projectMembership.id, { onDelete: 'cascade' }),
  variable: text('variable').notNull(),
  values: jsonb('value').$type<string[]>().notNull(),
}, (t) => [uniqueIndex('project_membership_variable_uq').on(t.membershipId, t.variable)])

/** A person's login name inside one project/tenant (Chevereto's `username`); unique per project. */
export const projectUsername = pgTable('project_username', {
  projectId: uuid('project_id').notNull().references(() => project.id, { onDelete: 'cascade' }),
  personId: uuid('person_id').notNull().references(() => person.id, { onDelete: 'cascade' }),
  username: text('username').notNull(),
  createdAt: createdAt(),
}, (t) => [
  uniqueIndex('project_username_uq').on(t.projectId, t.username),
  uniqueIndex('project_username_person_uq').on(t.projectId, t.personId),
])

export const projectSecret = pgTable('project_secret', {
  id: uuid('id').primaryKey().defaultRandom(),
  projectId: uuid('project_id').notNull().references(() => project.id, { onDelete: 'cascade' }),
  key: text('key').notNull(),
  valueEncrypted: text('value_encrypted').notNull(),
  version: smallint('version').notNull().default(1),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [uniqueIndex('project_secret_uq').on(t.projectId, t.key)])

export const mailTemplate = pgTable('mail_template', {
  id: uuid('id').primaryKey().defaultRandom(),
  projectId: uuid('project_id').references(() => project.id, { onDelete: 'cascade' }),
  mailType: text('mail_type').notNull(),
  /** '' is the default variant. */
  variant: text('variant').notNull().default(''),
  subject: text('subject').notNull(),
  content: text('content').notNull(),
  useLayout: boolean('use_layout').notNull().default(true),
  replyTo: text('reply_to'),
}, (t) => [
  uniqueIndex('mail_template_project_uq').on(t.projectId, t.mailType, t.variant).where(sql`${t.projectId} IS NOT NULL`),
  uniqueIndex('mail_template_global_uq').on(t.mailType, t.variant).where(sql`${t.projectId} IS NULL`),
])

/** Every mail we send or would send; with no SMTP configured nothing is lost. */
export const mailOutbox = pgTable('mail_outbox', {
  id: uuid('id').primaryKey().defaultRandom(),
  recipient: text('recipient').notNull(),
  subject: text('subject').notNull(),
  /** The rendered body; encrypted because it may carry one-time tokens or passwords. */
  bodyEncrypted: text('body_encrypted').notNull(),
  replyTo: text('reply_to'),
  mailType: text('mail_type').notNull(),
  projectId: uuid('project_id').references(() => project.id, { onDelete: 'set null' }),
  createdAt: createdAt(),
  sentAt: ts('sent_at'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
}, (t) => [index('mail_outbox_unsent_idx').on(t.sentAt)])

/** The singleton tenant configuration (Contember's `config` row), as one JSON document. */
export const tenantConfig = pgTable('config', {
  id: text('id').primaryKey().default('singleton'),
  value: jsonb('value').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

export const authPolicy = pgTable('auth_policy', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

/** One row per action on either surface (Contember's person_auth_log, extended with the REST actor). */
export const auditEvent = pgTable('audit_event', {
  id: uuid('id').primaryKey().defaultRandom(),
  createdAt: createdAt(),
  /** Write order: created_at is the transaction's start, shared by all events of one transaction. */
  seq: bigserial('seq', { mode: 'number' }).notNull(),
  type: text('type').notNull(),
  success: boolean('success').notNull().default(true),
  errorCode: text('error_code'),
  errorMessage: text('error_message'),
  invokedById: uuid('invoked_by_id'),
  personId: uuid('person_id'),
  targetPersonId: uuid('target_person_id'),
  personTokenId: uuid('person_token_id'),
  personInputIdentifier: text('person_input_identifier'),
  identityProviderId: uuid('identity_provider_id'),
  /** REST actor: the tenants API key name (or `env` for TENANTS_API_KEY). */
  actor: text('actor'),
  tenantId: text('tenant_id'),
  projectId: uuid('project_id'),
  ipAddress: text('ip_address'),
  userAgent: text('user_agent'),
  requestId: text('request_id'),
  eventData: jsonb('event_data').$type<Record<string, unknown>>(),
  metadata: jsonb('metadata').$type<Record<string, unknown>>(),
}, (t) => [
  index('audit_event_created_idx').on(t.createdAt, t.seq),
  index('audit_event_tenant_idx').on(t.tenantId, t.createdAt),
  index('audit_event_person_idx').on(t.personId),
])

/** Sliding-window rate limit events when no Redis is configured (key is a SHA-256, never an IP). */
export const rateLimitEvent = pgTable('rate_limit_event', {
  id: serial('id').primaryKey(),
  scope: text('scope').notNull(),
  keyHash: text('key_hash').notNull(),
  occurredAt: createdAt(),
}, (t) => [index('rate_limit_event_lookup_idx').on(t.scope, t.keyHash, t.occurredAt)])

export const plan = pgTable('plan', {
  id: varchar('id', { length: 16 }).primaryKey(),
  limits: jsonb('limits').$type<Record<string, unknown>>(),
  envEncrypted: text('env_encrypted'),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

export const tenant = pgTable('tenant', {
  id: varchar('id', { length: 16 }).primaryKey(),
  projectId: uuid('project_id').notNull().unique().references(() => project.id, { onDelete: 'cascade' }),
  hostname: varchar('hostname', { length: 255 }).notNull(),
  isEnabled: boolean('is_enabled').notNull(),
  planId: varchar('plan_id', { length: 16 }).references(() => plan.id, { onDelete: 'set null' }),
  limits: jsonb('limits').$type<Record<string, unknown>>(),
  envEncrypted: text('env_encrypted'),
  createdAt: createdAt(),
  updatedAt: ts('updated_at'),
  lastJobAt: ts('last_job_at'),
  /** Deleted without drop_tables: hidden and restorable; its hostname is free meanwhile. */
  archivedAt: ts('archived_at'),
}, (t) => [
  uniqueIndex('tenant_hostname_live_uq').on(t.hostname).where(sql`${t.archivedAt} IS NULL`),
  index('tenant_plan_idx').on(t.planId),
])

export const tenantsApiKey = pgTable('tenants_api_key', {
  id: serial('id').primaryKey(),
  name: varchar('name', { length: 100 }).unique(),
  /** SHA-256 hex of the whole key (the key carries 256 random bits). */
  hash: text('hash').notNull(),
  createdAt: createdAt(),
  expiresAt: ts('expires_at'),
})

/** Strong-form request signatures already seen, for replay rejection across nodes. */
export const usedSignature = pgTable('used_signature', {
  macHash: text('mac_hash').primaryKey(),
  expiresAt: ts('expires_at').notNull(),
}, (t) => [index('used_signature_expires_idx').on(t.expiresAt)])
