-- The statements of one approval that meets the quorum, as approveStage writes them: the
-- rollout row locked, its stages and votes read, the vote, the stage and rollout moved (CAS on
-- version), the dispatch and card intents, then the audit chain's lock, its head and
-- the one audit row (stage.approved).
-- pgbench -M prepared -D first=<id> -D count=<n> picks a prepared rollout at random (variables
-- are bound as parameters, so -M prepared is required).
\set rid random(:first, :first + :count - 1)
\set voter random(1, 1000000000)
BEGIN;
SET LOCAL lock_timeout = '2s';
SELECT id, image_id, state, version FROM rollouts WHERE id = :rid FOR UPDATE;
SELECT id AS sid, round AS sround, candidate_digest AS sdigest FROM rollout_stages WHERE rollout_id = :rid ORDER BY position LIMIT 1 \gset
SELECT id FROM approvals WHERE stage_id = :sid ORDER BY id;
SELECT id FROM scans WHERE image_id = (SELECT image_id FROM rollouts WHERE id = :rid) AND digest = :sdigest
  ORDER BY received_at DESC LIMIT 1 \gset scan_
SELECT vulnerability_id FROM findings WHERE scan_id = :scan_id;
INSERT INTO approvals (stage_id, user_id, user_name, decision, candidate_digest, round, groups, override, created_at)
  VALUES (:sid, 'U' || :voter::text, 'maria', 'approve', :sdigest, :sround, '["S0PAYAPPR"]', false, now())
  ON CONFLICT DO NOTHING RETURNING id;
UPDATE rollout_stages SET state = 'approved', updated_at = now(), version = version + 1 WHERE id = :sid;
UPDATE rollout_stages SET dispatch_id = 'pgb-' || :voter::text || '-' || md5(random()::text), attempt = attempt + 1,
  updated_at = now(), version = version + 1 WHERE id = :sid;
INSERT INTO outbox (kind, dedupe_key, payload) VALUES ('github.dispatch', 'pgb-dispatch:' || md5(random()::text),
  jsonb_build_object('rolloutId', :rid::int, 'stageId', :sid::int)) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id;
UPDATE rollouts SET state = 'active', updated_at = now(), version = version + 1 WHERE id = :rid RETURNING version;
INSERT INTO outbox (kind, dedupe_key, payload) VALUES ('rollout.card', 'pgb-card:' || md5(random()::text),
  jsonb_build_object('rolloutId', :rid::int)) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id;
SELECT pg_advisory_xact_lock(7310445201);
SELECT seq AS head_seq, hash AS head_hash FROM audit_events ORDER BY seq DESC LIMIT 1 \gset
INSERT INTO audit_events (seq, at, actor_id, actor_name, action, outcome, origin, resource, payload, prev_hash, hash)
  VALUES (:head_seq + 1, now(), 'U0MARIA', 'maria', 'stage.approved', 'ok', jsonb_build_object('bench', true),
  jsonb_build_object('rollout', :rid::int, 'stage', 'staging'), '{"groups":["S0PAYAPPR"]}', :head_hash,
  md5(random()::text) || md5(random()::text));
COMMIT;
