DROP INDEX "audit_event_created_idx";--> statement-breakpoint
ALTER TABLE "audit_event" ADD COLUMN "seq" bigserial NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_event_created_idx" ON "audit_event" USING btree ("created_at","seq");