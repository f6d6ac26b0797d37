-- Version 0: the legacy schema exactly as the terminal UI created it. A fresh database gets it
-- too, so old readers and the dual-write always find their tables.
CREATE TABLE IF NOT EXISTS consensus_artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    content_json TEXT NOT NULL,
    response_text TEXT,
    run_id TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS idx_spec_stage ON consensus_artifacts(spec_id, stage);

CREATE TABLE IF NOT EXISTS consensus_synthesis (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    output_markdown TEXT NOT NULL,
    output_path TEXT,
    status TEXT NOT NULL,
    artifacts_count INTEGER,
    agreements TEXT,
    conflicts TEXT,
    degraded BOOLEAN DEFAULT 0,
    run_id TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS idx_synthesis_spec_stage ON consensus_synthesis(spec_id, stage);
