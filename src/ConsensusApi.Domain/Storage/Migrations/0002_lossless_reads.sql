-- Version 2 (additive): every legacy field gets a home in the normalized schema, and the API's
-- reads get indexes that serve them newest first without sorting a whole stage.

-- agent_outputs keep the legacy response text and pipeline correlation id, and carry their
-- run's spec and stage so a stage's newest outputs are one index range.
ALTER TABLE agent_outputs ADD COLUMN spec_id TEXT;
ALTER TABLE agent_outputs ADD COLUMN stage TEXT;
ALTER TABLE agent_outputs ADD COLUMN response_text TEXT;
ALTER TABLE agent_outputs ADD COLUMN pipeline_run_id TEXT;
UPDATE agent_outputs
SET spec_id = (SELECT r.spec_id FROM consensus_runs r WHERE r.id = agent_outputs.run_id),
    stage = (SELECT r.stage FROM consensus_runs r WHERE r.id = agent_outputs.run_id)
WHERE spec_id IS NULL;
CREATE INDEX idx_agent_outputs_stage_newest
    ON agent_outputs(spec_id, stage, output_timestamp DESC, id DESC);
CREATE INDEX idx_agent_outputs_stage_agent_newest
    ON agent_outputs(spec_id, stage, agent_name, output_timestamp DESC, id DESC);

-- When a run row was written (Unix ms), for activity ordering.
ALTER TABLE consensus_runs ADD COLUMN created_at INTEGER;

-- Every synthesis, not only a run's latest: all legacy consensus_synthesis fields. Its id is the
-- id of its legacy twin. The run's synthesis_json keeps the latest one for the terminal UI.
CREATE TABLE run_syntheses (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES consensus_runs(id) ON DELETE CASCADE,
    spec_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    output_markdown TEXT NOT NULL,
    output_path TEXT,
    status TEXT NOT NULL,
    artifacts_count INTEGER,
    agreements TEXT,
    conflicts TEXT,
    degraded BOOLEAN NOT NULL DEFAULT 0,
    consensus_ok BOOLEAN NOT NULL,
    pipeline_run_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX idx_run_syntheses_stage_newest ON run_syntheses(spec_id, stage, created_at DESC, id DESC);
CREATE INDEX idx_run_syntheses_run ON run_syntheses(run_id);

-- Per-spec and per-stage counts, kept by triggers so listing specs never aggregates every row.
CREATE TABLE spec_stages (
    spec_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    run_count INTEGER NOT NULL DEFAULT 0,
    artifact_count INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    PRIMARY KEY (spec_id, stage)
) WITHOUT ROWID;
CREATE TABLE specs (
    spec_id TEXT PRIMARY KEY,
    run_count INTEGER NOT NULL DEFAULT 0,
    artifact_count INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idx_specs_activity ON specs(last_activity_at DESC, spec_id DESC);

INSERT INTO spec_stages (spec_id, stage, run_count, artifact_count, last_activity_at)
SELECT r.spec_id, r.stage, count(*),
       (SELECT count(*) FROM agent_outputs o WHERE o.spec_id = r.spec_id AND o.stage = r.stage),
       max(r.run_timestamp)
FROM consensus_runs r GROUP BY r.spec_id, r.stage;
INSERT INTO specs (spec_id, run_count, artifact_count, last_activity_at)
SELECT spec_id, sum(run_count), sum(artifact_count), max(last_activity_at) FROM spec_stages GROUP BY spec_id;

CREATE TRIGGER trg_runs_counted AFTER INSERT ON consensus_runs BEGIN
    INSERT INTO spec_stages (spec_id, stage, run_count, artifact_count, last_activity_at)
    VALUES (NEW.spec_id, NEW.stage, 1, 0, coalesce(NEW.created_at, NEW.run_timestamp))
    ON CONFLICT (spec_id, stage) DO UPDATE
        SET run_count = run_count + 1, last_activity_at = max(last_activity_at, excluded.last_activity_at);
    INSERT INTO specs (spec_id, run_count, artifact_count, last_activity_at)
    VALUES (NEW.spec_id, 1, 0, coalesce(NEW.created_at, NEW.run_timestamp))
    ON CONFLICT (spec_id) DO UPDATE
        SET run_count = run_count + 1, last_activity_at = max(last_activity_at, excluded.last_activity_at);
END;

CREATE TRIGGER trg_outputs_counted AFTER INSERT ON agent_outputs BEGIN
    UPDATE spec_stages SET artifact_count = artifact_count + 1, last_activity_at = max(last_activity_at, NEW.output_timestamp)
    WHERE spec_id = NEW.spec_id AND stage = NEW.stage;
    UPDATE specs SET artifact_count = artifact_count + 1, last_activity_at = max(last_activity_at, NEW.output_timestamp)
    WHERE spec_id = NEW.spec_id;
END;

CREATE TRIGGER trg_syntheses_activity AFTER INSERT ON run_syntheses BEGIN
    UPDATE spec_stages SET last_activity_at = max(last_activity_at, NEW.created_at)
    WHERE spec_id = NEW.spec_id AND stage = NEW.stage;
    UPDATE specs SET last_activity_at = max(last_activity_at, NEW.created_at)
    WHERE spec_id = NEW.spec_id;
END;

CREATE TRIGGER trg_outputs_uncounted AFTER DELETE ON agent_outputs BEGIN
    UPDATE spec_stages SET artifact_count = artifact_count - 1 WHERE spec_id = OLD.spec_id AND stage = OLD.stage;
    UPDATE specs SET artifact_count = artifact_count - 1 WHERE spec_id = OLD.spec_id;
END;

CREATE TRIGGER trg_runs_uncounted AFTER DELETE ON consensus_runs BEGIN
    UPDATE spec_stages SET run_count = run_count - 1 WHERE spec_id = OLD.spec_id AND stage = OLD.stage;
    DELETE FROM spec_stages WHERE spec_id = OLD.spec_id AND stage = OLD.stage AND run_count <= 0;
    UPDATE specs
    SET run_count = run_count - 1,
        last_activity_at = coalesce((SELECT max(s.last_activity_at) FROM spec_stages s WHERE s.spec_id = OLD.spec_id), last_activity_at)
    WHERE spec_id = OLD.spec_id;
    DELETE FROM specs WHERE spec_id = OLD.spec_id AND run_count <= 0;
END;

-- Idempotency keys, written in the same transaction as the write they guard.
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    created BOOLEAN NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys(created_at);
