-- Version 4: the index of a stage's outputs by agent leads with the agent. Its three equality
-- columns serve the same reads in any order; led by the agent, the entries of one agent's writes
-- sort together, so when many agent names are written at once (as in the load tests, where every
-- write has its own), a commit dirties fewer of its pages. With a few agents it costs the same.
DROP INDEX IF EXISTS idx_agent_outputs_stage_agent_newest;
CREATE INDEX idx_agent_outputs_agent_stage_newest
    ON agent_outputs(agent_name, spec_id, stage, output_timestamp DESC, id DESC);
