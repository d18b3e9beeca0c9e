CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" text NOT NULL,
	"actor_name" text,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"origin" jsonb NOT NULL,
	"resource" jsonb NOT NULL,
	"payload" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_events_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"repository" text NOT NULL,
	"config_id" text,
	"team_id" text,
	"base_image" text,
	"latest_scan_id" uuid,
	"latest_digest" text,
	"latest_scan_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "images_repository_unique" UNIQUE("repository"),
	CONSTRAINT "images_config_id_unique" UNIQUE("config_id")
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"channel" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp with time zone,
	"last_error" text,
	"result" jsonb,
	CONSTRAINT "outbox_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "risk_acceptances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"vulnerability_id" text NOT NULL,
	"image_id" uuid,
	"team_id" text,
	"source" text NOT NULL,
	"status" text NOT NULL,
	"justification" text,
	"reason" text NOT NULL,
	"accepted_by" text NOT NULL,
	"accepted_by_name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"expiry_notified_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" serial PRIMARY KEY NOT NULL,
	"stage_id" integer NOT NULL,
	"user_id" text NOT NULL,
	"user_name" text,
	"decision" text NOT NULL,
	"reason" text,
	"candidate_digest" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "approvals_stage_user_digest_uq" UNIQUE("stage_id","user_id","candidate_digest")
);
--> statement-breakpoint
CREATE TABLE "rollout_stages" (
	"id" serial PRIMARY KEY NOT NULL,
	"rollout_id" integer NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"state" text NOT NULL,
	"candidate_digest" text,
	"dispatch_id" text,
	"run_id" text,
	"run_url" text,
	"scheduled_for" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollout_stages_dispatch_id_unique" UNIQUE("dispatch_id"),
	CONSTRAINT "rollout_stages_rollout_name_uq" UNIQUE("rollout_id","name")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" serial PRIMARY KEY NOT NULL,
	"image_id" uuid NOT NULL,
	"team_id" text,
	"running_digest" text,
	"candidate_digest" text,
	"state" text NOT NULL,
	"reason" text,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "finding_lifecycle" (
	"image_id" uuid NOT NULL,
	"vulnerability_id" text NOT NULL,
	"package_name" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"fixed_at" timestamp with time zone,
	CONSTRAINT "finding_lifecycle_image_id_vulnerability_id_package_name_pk" PRIMARY KEY("image_id","vulnerability_id","package_name")
);
--> statement-breakpoint
CREATE TABLE "findings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scan_id" uuid NOT NULL,
	"fingerprint" text NOT NULL,
	"vulnerability_id" text NOT NULL,
	"aliases" text[] DEFAULT '{}'::text[] NOT NULL,
	"package_name" text NOT NULL,
	"package_type" text,
	"purl" text,
	"package_path" text,
	"installed_version" text,
	"fixed_versions" text[] DEFAULT '{}'::text[] NOT NULL,
	"fix_state" text NOT NULL,
	"severity" text NOT NULL,
	"cvss_score" real,
	"cvss_vector" text,
	"epss" real,
	"known_exploited" boolean DEFAULT false NOT NULL,
	"layer_digest" text,
	"layer_diff_id" text,
	"title" text,
	"primary_url" text,
	CONSTRAINT "findings_scan_fingerprint_uq" UNIQUE("scan_id","fingerprint")
);
--> statement-breakpoint
CREATE TABLE "scans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"image_id" uuid NOT NULL,
	"digest" text NOT NULL,
	"tag" text,
	"format" text NOT NULL,
	"scanner_name" text NOT NULL,
	"scanner_version" text,
	"content_hash" text NOT NULL,
	"report_created_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finding_count" integer NOT NULL,
	"diff" jsonb NOT NULL,
	"rollout_id" integer,
	"uploaded_by" text,
	CONSTRAINT "scans_image_digest_content_uq" UNIQUE("image_id","digest","content_hash")
);
--> statement-breakpoint
CREATE TABLE "digest_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"cron" text NOT NULL,
	"timezone" text NOT NULL,
	"teams" text[] NOT NULL,
	"source" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "digest_subscriptions_uq" UNIQUE("channel","cron","timezone","teams")
);
--> statement-breakpoint
CREATE TABLE "slack_messages" (
	"key" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"thread_ts" text,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upload_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"team_id" text,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "upload_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_acceptances" ADD CONSTRAINT "risk_acceptances_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_acceptances" ADD CONSTRAINT "risk_acceptances_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_stage_id_rollout_stages_id_fk" FOREIGN KEY ("stage_id") REFERENCES "public"."rollout_stages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD CONSTRAINT "rollout_stages_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "finding_lifecycle" ADD CONSTRAINT "finding_lifecycle_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_scan_id_scans_id_fk" FOREIGN KEY ("scan_id") REFERENCES "public"."scans"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scans" ADD CONSTRAINT "scans_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "upload_tokens" ADD CONSTRAINT "upload_tokens_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "images_team_idx" ON "images" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("status","available_at");--> statement-breakpoint
CREATE INDEX "risk_acceptances_vuln_idx" ON "risk_acceptances" USING btree ("vulnerability_id");--> statement-breakpoint
CREATE INDEX "risk_acceptances_expiry_idx" ON "risk_acceptances" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "rollouts_image_idx" ON "rollouts" USING btree ("image_id");--> statement-breakpoint
CREATE INDEX "rollouts_state_idx" ON "rollouts" USING btree ("state");--> statement-breakpoint
CREATE INDEX "findings_vuln_idx" ON "findings" USING btree ("vulnerability_id");--> statement-breakpoint
CREATE INDEX "scans_image_received_idx" ON "scans" USING btree ("image_id","received_at");