-- Version 1: the normalized tables and indexes, exactly as the Phase 1 checklist gives them.
CREATE TABLE IF NOT EXISTS consensus_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    run_timestamp INTEGER NOT NULL,
    consensus_ok BOOLEAN NOT NULL,
    degraded BOOLEAN DEFAULT 0,
    synthesis_json TEXT,
    UNIQUE(spec_id, stage, run_timestamp)
);

CREATE TABLE IF NOT EXISTS agent_outputs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    agent_name TEXT NOT NULL,
    model_version TEXT,
    content TEXT NOT NULL,
    output_timestamp INTEGER NOT NULL,
    FOREIGN KEY(run_id) REFERENCES consensus_runs(id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS idx_consensus_spec_stage
    ON consensus_runs(spec_id, stage);
CREATE INDEX IF NOT EXISTS idx_consensus_timestamp
    ON consensus_runs(run_timestamp);
CREATE INDEX IF NOT EXISTS idx_agent_outputs_run
    ON agent_outputs(run_id);
CREATE INDEX IF NOT EXISTS idx_agent_outputs_agent
    ON agent_outputs(agent_name);
