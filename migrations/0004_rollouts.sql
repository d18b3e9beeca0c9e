CREATE TABLE "github_deliveries" (
	"delivery_id" text PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runtime_freezes" (
	"id" serial PRIMARY KEY NOT NULL,
	"environment" text NOT NULL,
	"reason" text NOT NULL,
	"started_by" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_by" text,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "approvals" DROP CONSTRAINT "approvals_stage_user_digest_uq";--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "round" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "groups" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "override" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "kind" text DEFAULT 'deploy' NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "target_digest" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "round" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "attempt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "run_status" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "run_conclusion" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "requested_by" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "decided_by_name" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "decision_reason" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "emergency" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "blocked_reason" text;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "dispatched_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "trigger" text DEFAULT 'manual' NOT NULL;--> statement-breakpoint
ALTER TABLE "rollouts" ADD COLUMN "requested_by_name" text;--> statement-breakpoint
CREATE UNIQUE INDEX "runtime_freezes_one_active_uq" ON "runtime_freezes" USING btree ("environment") WHERE ended_at IS NULL;--> statement-breakpoint
CREATE INDEX "audit_events_rollout_idx" ON "audit_events" USING btree (("resource"->>'rollout'));--> statement-breakpoint
CREATE INDEX "rollout_stages_state_idx" ON "rollout_stages" USING btree ("state");--> statement-breakpoint
CREATE INDEX "rollout_stages_run_idx" ON "rollout_stages" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_one_open_per_image_uq" ON "rollouts" USING btree ("image_id") WHERE state IN ('active', 'halted', 'rolling_back');--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_stage_user_digest_round_uq" UNIQUE("stage_id","user_id","candidate_digest","round");