using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// Copies legacy rows that have no normalized twin into the new schema, keeping their ids, so
/// every legacy field is readable from it. Idempotent: a row whose twin exists is skipped, so it
/// can run again (for rows an old writer added to the legacy tables meanwhile) and changes
/// nothing the second time. Runs inside the caller's transaction.
/// </summary>
/// <remarks>
/// Legacy rows have no run timestamp. Artifacts are grouped into runs by (spec, stage, run_id)
/// where run_id is set (the run's timestamp is the group's earliest created_at) and by their
/// created_at otherwise; a timestamp already taken by another run of the stage moves on by a
/// millisecond. A synthesis joins the run of the artifacts with its run_id, else the stage's
/// latest run started at or before it, else a run of its own. A backfilled run's consensusOk is
/// true when its latest synthesis has status <c>ok</c>.
/// </remarks>
internal static class LegacyBackfill
{
    public static (long Artifacts, long Syntheses) Run(SqliteConnection connection)
    {
        var artifacts = BackfillArtifacts(connection);
        var syntheses = BackfillSyntheses(connection);
        return (artifacts, syntheses);
    }

    private static readonly string CreatedMs = LegacyTime.ToMilliseconds("a.created_at");
    private static readonly string GroupKey = $"CASE WHEN a.run_id IS NULL THEN 't:' || {CreatedMs} ELSE 'r:' || a.run_id END";

    private static long BackfillArtifacts(SqliteConnection connection)
    {
        var groupKey = GroupKey;
        connection.Execute("""
            DROP TABLE IF EXISTS temp.backfill_groups;
            CREATE TEMP TABLE backfill_groups (
                spec_id TEXT NOT NULL, stage TEXT NOT NULL, group_key TEXT NOT NULL,
                pipeline_run_id TEXT, ts INTEGER NOT NULL, run_id INTEGER,
                PRIMARY KEY (spec_id, stage, group_key));
            """);
        connection.Execute($"""
            INSERT INTO temp.backfill_groups (spec_id, stage, group_key, pipeline_run_id, ts)
            SELECT a.spec_id, a.stage, {groupKey}, a.run_id, min({CreatedMs})
            FROM consensus_artifacts a
            WHERE NOT EXISTS (SELECT 1 FROM agent_outputs o WHERE o.id = a.id)
            GROUP BY a.spec_id, a.stage, {groupKey}
            """);

        var groups = connection.Query<BackfillGroup>("""
            SELECT spec_id AS SpecId, stage AS Stage, group_key AS GroupKey, pipeline_run_id AS PipelineRunId, ts AS Ts
            FROM temp.backfill_groups
            ORDER BY pipeline_run_id IS NOT NULL, ts, group_key
            """).ToList();
        foreach (var group in groups)
        {
            long? runId = group.PipelineRunId is null
                ? connection.ExecuteScalar<long?>(
                    "SELECT id FROM consensus_runs WHERE spec_id = @SpecId AND stage = @Stage AND run_timestamp = @Ts", group)
                : connection.ExecuteScalar<long?>(
                    "SELECT run_id FROM agent_outputs WHERE spec_id = @SpecId AND stage = @Stage AND pipeline_run_id = @PipelineRunId LIMIT 1", group);
            runId ??= InsertRun(connection, group.SpecId, group.Stage, group.Ts);
            connection.Execute(
                "UPDATE temp.backfill_groups SET run_id = @runId WHERE spec_id = @SpecId AND stage = @Stage AND group_key = @GroupKey",
                new { runId, group.SpecId, group.Stage, group.GroupKey });
        }

        var inserted = connection.Execute($"""
            INSERT INTO agent_outputs (id, run_id, agent_name, model_version, content, output_timestamp, spec_id, stage, response_text, pipeline_run_id)
            SELECT a.id, g.run_id, a.agent_name, NULL, a.content_json, {CreatedMs}, a.spec_id, a.stage, a.response_text, a.run_id
            FROM consensus_artifacts a
            JOIN temp.backfill_groups g ON g.spec_id = a.spec_id AND g.stage = a.stage AND g.group_key = {groupKey}
            WHERE NOT EXISTS (SELECT 1 FROM agent_outputs o WHERE o.id = a.id)
            ORDER BY a.id
            """);
        connection.Execute("DROP TABLE temp.backfill_groups");
        return inserted;
    }

    private static long BackfillSyntheses(SqliteConnection connection)
    {
        var pending = connection.Query<LegacySynthesis>($"""
            SELECT a.id AS Id, a.spec_id AS SpecId, a.stage AS Stage, a.output_markdown AS OutputMarkdown, a.output_path AS OutputPath,
                   a.status AS Status, a.artifacts_count AS ArtifactsCount, a.agreements AS Agreements, a.conflicts AS Conflicts,
                   coalesce(a.degraded, 0) AS Degraded, a.run_id AS PipelineRunId, {CreatedMs} AS CreatedAt
            FROM consensus_synthesis a
            WHERE NOT EXISTS (SELECT 1 FROM run_syntheses s WHERE s.id = a.id)
            ORDER BY a.id
            """).ToList();
        foreach (var synthesis in pending)
        {
            var runId = (synthesis.PipelineRunId is null
                    ? null
                    : connection.ExecuteScalar<long?>(
                        "SELECT run_id FROM agent_outputs WHERE spec_id = @SpecId AND stage = @Stage AND pipeline_run_id = @PipelineRunId LIMIT 1", synthesis))
                ?? connection.ExecuteScalar<long?>(
                    "SELECT id FROM consensus_runs WHERE spec_id = @SpecId AND stage = @Stage AND run_timestamp <= @CreatedAt ORDER BY run_timestamp DESC LIMIT 1", synthesis)
                ?? InsertRun(connection, synthesis.SpecId, synthesis.Stage, synthesis.CreatedAt);
            var consensusOk = string.Equals(synthesis.Status, "ok", StringComparison.OrdinalIgnoreCase);
            connection.Execute(SynthesisRepository.InsertNormalizedSql, new
            {
                id = synthesis.Id, runId, specId = synthesis.SpecId, stage = synthesis.Stage, outputMarkdown = synthesis.OutputMarkdown,
                outputPath = synthesis.OutputPath, status = synthesis.Status, artifactsCount = synthesis.ArtifactsCount, agreements = synthesis.Agreements,
                conflicts = synthesis.Conflicts, degraded = synthesis.Degraded != 0, consensusOk, pipelineRunId = synthesis.PipelineRunId,
                createdAt = synthesis.CreatedAt,
            });
            // The run keeps its newest synthesis.
            connection.Execute("""
                UPDATE consensus_runs SET synthesis_json = @json, consensus_ok = @consensusOk, degraded = @Degraded
                WHERE id = @runId
                  AND NOT EXISTS (SELECT 1 FROM run_syntheses s WHERE s.run_id = @runId AND (s.created_at, s.id) > (@CreatedAt, @Id))
                """,
                new
                {
                    json = SynthesisJson.Build(synthesis.OutputMarkdown, synthesis.OutputPath, synthesis.Status, synthesis.ArtifactsCount, synthesis.Agreements, synthesis.Conflicts),
                    consensusOk, Degraded = synthesis.Degraded != 0, runId, synthesis.CreatedAt, synthesis.Id,
                });
        }

        return pending.Count;
    }

    private static long InsertRun(SqliteConnection connection, string specId, string stage, long timestamp)
    {
        // A timestamp another run of the stage already has moves on by a millisecond.
        var free = connection.ExecuteScalar<long>("""
            WITH RECURSIVE candidate(ts) AS (
                SELECT @timestamp
                UNION ALL
                SELECT ts + 1 FROM candidate
                WHERE EXISTS (SELECT 1 FROM consensus_runs WHERE spec_id = @specId AND stage = @stage AND run_timestamp = candidate.ts))
            SELECT max(ts) FROM candidate
            """, new { specId, stage, timestamp });
        return connection.ExecuteScalar<long>("""
            INSERT INTO consensus_runs (spec_id, stage, run_timestamp, consensus_ok, degraded, synthesis_json, created_at)
            VALUES (@specId, @stage, @free, 0, 0, NULL, @free)
            RETURNING id
            """, new { specId, stage, free });
    }

    private sealed class BackfillGroup
    {
        public string SpecId { get; set; } = "";
        public string Stage { get; set; } = "";
        public string GroupKey { get; set; } = "";
        public string? PipelineRunId { get; set; }
        public long Ts { get; set; }
    }

    private sealed class LegacySynthesis
    {
        public long Id { get; set; }
        public string SpecId { get; set; } = "";
        public string Stage { get; set; } = "";
        public string OutputMarkdown { get; set; } = "";
        public string? OutputPath { get; set; }
        public string Status { get; set; } = "";
        public long? ArtifactsCount { get; set; }
        public string? Agreements { get; set; }
        public string? Conflicts { get; set; }
        public long Degraded { get; set; }
        public string? PipelineRunId { get; set; }
        public long CreatedAt { get; set; }
    }
}
