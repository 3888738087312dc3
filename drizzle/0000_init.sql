CREATE TABLE "api_key" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"type" text NOT NULL,
	"identity_id" uuid NOT NULL,
	"expiration" integer,
	"expires_at" timestamp with time zone,
	"disabled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"last_ip" text,
	"last_user_agent" text,
	"created_ip" text,
	"created_user_agent" text,
	"trust_forwarded_info" boolean DEFAULT false NOT NULL,
	CONSTRAINT "api_key_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_event" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"success" boolean DEFAULT true NOT NULL,
	"error_code" text,
	"error_message" text,
	"invoked_by_id" uuid,
	"person_id" uuid,
	"target_person_id" uuid,
	"person_token_id" uuid,
	"person_input_identifier" text,
	"identity_provider_id" uuid,
	"actor" text,
	"tenant_id" text,
	"project_id" uuid,
	"ip_address" text,
	"user_agent" text,
	"request_id" text,
	"event_data" jsonb,
	"metadata" jsonb
);
--> statement-breakpoint
CREATE TABLE "auth_policy" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "auth_policy_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "identity" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"roles" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_provider" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"type" text NOT NULL,
	"configuration" jsonb NOT NULL,
	"secret_encrypted" text,
	"disabled_at" timestamp with time zone,
	"auto_sign_up" boolean DEFAULT false NOT NULL,
	"exclusive" boolean DEFAULT false NOT NULL,
	"init_returns_config" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_provider_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "mail_outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"recipient" text NOT NULL,
	"subject" text NOT NULL,
	"body_encrypted" text NOT NULL,
	"reply_to" text,
	"mail_type" text NOT NULL,
	"project_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "mail_template" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid,
	"mail_type" text NOT NULL,
	"variant" text DEFAULT '' NOT NULL,
	"subject" text NOT NULL,
	"content" text NOT NULL,
	"use_layout" boolean DEFAULT true NOT NULL,
	"reply_to" text
);
--> statement-breakpoint
CREATE TABLE "person" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"identity_id" uuid NOT NULL,
	"email" text,
	"name" text,
	"password_hash" text,
	"idp_only" boolean DEFAULT false NOT NULL,
	"passwordless_enabled" boolean,
	"email_verified_at" timestamp with time zone,
	"disabled_at" timestamp with time zone,
	"failed_sign_ins" integer DEFAULT 0 NOT NULL,
	"last_failed_sign_in_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "person_identity_id_unique" UNIQUE("identity_id"),
	CONSTRAINT "person_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "person_backup_code" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "person_identity_provider" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"identity_provider_id" uuid NOT NULL,
	"external_identifier" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "person_mfa" (
	"person_id" uuid PRIMARY KEY NOT NULL,
	"otp_uri_encrypted" text,
	"otp_activated_at" timestamp with time zone,
	"otp_last_step" bigint,
	"email_otp_enabled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "person_token" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"person_id" uuid NOT NULL,
	"type" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"otp_hash" text,
	"otp_attempts" integer DEFAULT 0 NOT NULL,
	"payload" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "person_token_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "plan" (
	"id" varchar(16) PRIMARY KEY NOT NULL,
	"limits" jsonb,
	"env_encrypted" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "project_membership" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"identity_id" uuid NOT NULL,
	"role" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project_membership_variable" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"membership_id" uuid NOT NULL,
	"variable" text NOT NULL,
	"value" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project_secret" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"key" text NOT NULL,
	"value_encrypted" text NOT NULL,
	"version" smallint DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project_username" (
	"project_id" uuid NOT NULL,
	"person_id" uuid NOT NULL,
	"username" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limit_event" (
	"id" serial PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenant" (
	"id" varchar(16) PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"hostname" varchar(255) NOT NULL,
	"is_enabled" boolean NOT NULL,
	"plan_id" varchar(16),
	"limits" jsonb,
	"env_encrypted" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	"last_job_at" timestamp with time zone,
	"archived_at" timestamp with time zone,
	CONSTRAINT "tenant_project_id_unique" UNIQUE("project_id")
);
--> statement-breakpoint
CREATE TABLE "config" (
	"id" text PRIMARY KEY DEFAULT 'singleton' NOT NULL,
	"value" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants_api_key" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(100),
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "tenants_api_key_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "used_signature" (
	"mac_hash" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_key" ADD CONSTRAINT "api_key_identity_id_identity_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identity"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mail_outbox" ADD CONSTRAINT "mail_outbox_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mail_template" ADD CONSTRAINT "mail_template_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person" ADD CONSTRAINT "person_identity_id_identity_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identity"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person_backup_code" ADD CONSTRAINT "person_backup_code_person_id_person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."person"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person_identity_provider" ADD CONSTRAINT "person_identity_provider_person_id_person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."person"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person_identity_provider" ADD CONSTRAINT "person_identity_provider_identity_provider_id_identity_provider_id_fk" FOREIGN KEY ("identity_provider_id") REFERENCES "public"."identity_provider"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person_mfa" ADD CONSTRAINT "person_mfa_person_id_person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."person"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "person_token" ADD CONSTRAINT "person_token_person_id_person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."person"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_membership" ADD CONSTRAINT "project_membership_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_membership" ADD CONSTRAINT "project_membership_identity_id_identity_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."identity"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_membership_variable" ADD CONSTRAINT "project_membership_variable_membership_id_project_membership_id_fk" FOREIGN KEY ("membership_id") REFERENCES "public"."project_membership"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_secret" ADD CONSTRAINT "project_secret_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_username" ADD CONSTRAINT "project_username_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_username" ADD CONSTRAINT "project_username_person_id_person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."person"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant" ADD CONSTRAINT "tenant_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant" ADD CONSTRAINT "tenant_plan_id_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plan"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_key_identity_idx" ON "api_key" USING btree ("identity_id");--> statement-breakpoint
CREATE INDEX "audit_event_created_idx" ON "audit_event" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "audit_event_tenant_idx" ON "audit_event" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "audit_event_person_idx" ON "audit_event" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "mail_outbox_unsent_idx" ON "mail_outbox" USING btree ("sent_at");--> statement-breakpoint
CREATE UNIQUE INDEX "mail_template_project_uq" ON "mail_template" USING btree ("project_id","mail_type","variant") WHERE "mail_template"."project_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "mail_template_global_uq" ON "mail_template" USING btree ("mail_type","variant") WHERE "mail_template"."project_id" IS NULL;--> statement-breakpoint
CREATE INDEX "person_backup_code_person_idx" ON "person_backup_code" USING btree ("person_id");--> statement-breakpoint
CREATE UNIQUE INDEX "person_idp_external_uq" ON "person_identity_provider" USING btree ("identity_provider_id","external_identifier");--> statement-breakpoint
CREATE INDEX "person_token_person_idx" ON "person_token" USING btree ("person_id");--> statement-breakpoint
CREATE UNIQUE INDEX "project_membership_uq" ON "project_membership" USING btree ("project_id","identity_id","role");--> statement-breakpoint
CREATE INDEX "project_membership_identity_idx" ON "project_membership" USING btree ("identity_id");--> statement-breakpoint
CREATE UNIQUE INDEX "project_membership_variable_uq" ON "project_membership_variable" USING btree ("membership_id","variable");--> statement-breakpoint
CREATE UNIQUE INDEX "project_secret_uq" ON "project_secret" USING btree ("project_id","key");--> statement-breakpoint
CREATE UNIQUE INDEX "project_username_uq" ON "project_username" USING btree ("project_id","username");--> statement-breakpoint
CREATE UNIQUE INDEX "project_username_person_uq" ON "project_username" USING btree ("project_id","person_id");--> statement-breakpoint
CREATE INDEX "rate_limit_event_lookup_idx" ON "rate_limit_event" USING btree ("scope","key_hash","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "tenant_hostname_live_uq" ON "tenant" USING btree ("hostname") WHERE "tenant"."archived_at" IS NULL;--> statement-breakpoint
CREATE INDEX "tenant_plan_idx" ON "tenant" USING btree ("plan_id");--> statement-breakpoint
CREATE INDEX "used_signature_expires_idx" ON "used_signature" USING btree ("expires_at");