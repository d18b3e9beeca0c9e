CREATE TABLE "base_image_versions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository" text NOT NULL,
	"tag" text NOT NULL,
	"platform" text NOT NULL,
	"digest" text NOT NULL,
	"manifest_digest" text NOT NULL,
	"diff_ids" text[] NOT NULL,
	"built_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "base_image_versions_uq" UNIQUE("repository","tag","platform","digest")
);
--> statement-breakpoint
CREATE TABLE "image_base_status" (
	"image_id" uuid PRIMARY KEY NOT NULL,
	"base_ref" text NOT NULL,
	"state" text NOT NULL,
	"built_on_digest" text,
	"current_digest" text,
	"moved_at" timestamp with time zone,
	"built_on_at" timestamp with time zone,
	"scan_id" uuid,
	"base_counts" jsonb,
	"app_findings" integer DEFAULT 0 NOT NULL,
	"unattributed" integer DEFAULT 0 NOT NULL,
	"bump_fixes" jsonb,
	"checked_at" timestamp with time zone NOT NULL,
	"error" text,
	"acted_on_digest" text
);
--> statement-breakpoint
ALTER TABLE "rollout_stages" ADD COLUMN "health" jsonb;--> statement-breakpoint
ALTER TABLE "scans" ADD COLUMN "layer_diff_ids" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "image_base_status" ADD CONSTRAINT "image_base_status_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_base_status" ADD CONSTRAINT "image_base_status_scan_id_scans_id_fk" FOREIGN KEY ("scan_id") REFERENCES "public"."scans"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "base_image_versions_seen_idx" ON "base_image_versions" USING btree ("repository","tag","platform","first_seen_at");--> statement-breakpoint
CREATE INDEX "image_base_status_state_idx" ON "image_base_status" USING btree ("state");