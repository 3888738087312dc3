CREATE TABLE "idp_session" (
	"api_key_id" uuid PRIMARY KEY NOT NULL,
	"identity_provider_id" uuid NOT NULL,
	"id_token_encrypted" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_key" ADD COLUMN "idle_timeout_seconds" integer;--> statement-breakpoint
ALTER TABLE "api_key" ADD COLUMN "max_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "person" ADD COLUMN "mfa_grace_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "idp_session" ADD CONSTRAINT "idp_session_api_key_id_api_key_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_key"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idp_session" ADD CONSTRAINT "idp_session_identity_provider_id_identity_provider_id_fk" FOREIGN KEY ("identity_provider_id") REFERENCES "public"."identity_provider"("id") ON DELETE cascade ON UPDATE no action;