using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Validation;
using Dapper;

namespace ConsensusApi.Domain.Storage;

/// <summary>Syntheses: the legacy row, the normalized row and the run's <c>synthesis_json</c>, written together.</summary>
public sealed class SynthesisRepository(StorageExecutor storage, RequestValidator validator, DualWriteTelemetry dualWrite)
{
    private const string Columns = """
        s.id AS Id, s.run_id AS RunId, s.spec_id AS SpecId, s.stage AS Stage, s.output_markdown AS OutputMarkdown,
        s.output_path AS OutputPath, s.status AS Status, s.artifacts_count AS ArtifactsCount, s.agreements AS Agreements,
        s.conflicts AS Conflicts, s.degraded AS Degraded, s.consensus_ok AS ConsensusOk, s.pipeline_run_id AS PipelineRunId,
        r.run_timestamp AS RunTimestamp, s.created_at AS CreatedAt
        """;

    /// <summary>A stage's newest synthesis.</summary>
    internal const string LatestSql = $"""
        SELECT {Columns} FROM run_syntheses s JOIN consensus_runs r ON r.id = s.run_id
        WHERE s.spec_id = @specId AND s.stage = @stage
        ORDER BY s.created_at DESC, s.id DESC LIMIT 1
        """;

    /// <summary>The normalized synthesis row; its id is its legacy twin's. Used by live writes and the legacy backfill.</summary>
    internal const string InsertNormalizedSql = """
        INSERT INTO run_syntheses (id, run_id, spec_id, stage, output_markdown, output_path, status, artifacts_count,
                                   agreements, conflicts, degraded, consensus_ok, pipeline_run_id, created_at)
        VALUES (@id, @runId, @specId, @stage, @outputMarkdown, @outputPath, @status, @artifactsCount,
                @agreements, @conflicts, @degraded, @consensusOk, @pipelineRunId, @createdAt)
        """;

    /// <summary>The synthesis's run, created or given the synthesis's flags and <c>synthesis_json</c>.</summary>
    private const string UpsertRunSql = """
        INSERT INTO consensus_runs (spec_id, stage, run_timestamp, consensus_ok, degraded, synthesis_json, created_at)
        VALUES (@specId, @stage, @runTimestamp, @consensusOk, @degraded, @json, @now)
        ON CONFLICT (spec_id, stage, run_timestamp) DO UPDATE SET
            consensus_ok = excluded.consensus_ok, degraded = excluded.degraded, synthesis_json = excluded.synthesis_json
        RETURNING id
        """;

    private const string InsertLegacySql = """
        INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, output_path, status, artifacts_count, agreements, conflicts, degraded, run_id, created_at)
        VALUES (@specId, @stage, @outputMarkdown, @outputPath, @status, @artifactsCount, @agreements, @conflicts, @degraded, @pipelineRunId, @createdAt)
        RETURNING id
        """;

    /// <summary>Stores a synthesis and sets its run's consensus flags (dual-write).</summary>
    public async ValueTask<WriteOutcome<Synthesis>> StoreAsync(SynthesisRequest request, IdempotencyKey? key, CancellationToken cancellationToken)
    {
        validator.Validate(request);
        var consensusOk = request.ConsensusOk ?? true;
        var degraded = request.Degraded ?? false;
        var json = SynthesisJson.Build(request.OutputMarkdown!, request.OutputPath, request.Status!, request.ArtifactsCount, request.Agreements, request.Conflicts);
        var checks = new List<DualWriteCheck>(1);
        var outcome = await storage.WriteOnceAsync("store_synthesis", key, (connection, now, _) =>
        {
            checks.Clear();
            var runTimestamp = request.RunTimestamp ?? now;
            var runId = PreparedStatements.Get(connection, UpsertRunSql, "@specId", "@stage", "@runTimestamp", "@consensusOk", "@degraded", "@json", "@now")
                .Bind(request.SpecId, request.Stage, runTimestamp, consensusOk, degraded, json, now)
                .ExecuteInt64();
            var id = PreparedStatements.Get(connection, InsertLegacySql, "@specId", "@stage", "@outputMarkdown", "@outputPath", "@status", "@artifactsCount", "@agreements", "@conflicts", "@degraded", "@pipelineRunId", "@createdAt")
                .Bind(request.SpecId, request.Stage, request.OutputMarkdown, request.OutputPath, request.Status, request.ArtifactsCount,
                    request.Agreements, request.Conflicts, degraded, request.PipelineRunId, LegacyTime.Format(now))
                .ExecuteInt64();
            PreparedStatements.Get(connection, InsertNormalizedSql, "@id", "@runId", "@specId", "@stage", "@outputMarkdown", "@outputPath", "@status", "@artifactsCount", "@agreements", "@conflicts", "@degraded", "@consensusOk", "@pipelineRunId", "@createdAt")
                .Bind(id, runId, request.SpecId, request.Stage, request.OutputMarkdown, request.OutputPath, request.Status, request.ArtifactsCount,
                    request.Agreements, request.Conflicts, degraded, consensusOk, request.PipelineRunId, now)
                .ExecuteNonQuery();
            checks.Add(DualWriteValidator.CheckSynthesis(connection, id));
            var synthesis = new Synthesis
            {
                Id = id,
                RunId = runId,
                SpecId = request.SpecId!,
                Stage = request.Stage!,
                OutputMarkdown = request.OutputMarkdown!,
                OutputPath = request.OutputPath,
                Status = request.Status!,
                ArtifactsCount = request.ArtifactsCount,
                Agreements = request.Agreements,
                Conflicts = request.Conflicts,
                Degraded = degraded,
                ConsensusOk = consensusOk,
                PipelineRunId = request.PipelineRunId,
                RunTimestamp = runTimestamp,
                CreatedAt = Rows.FromUnixMs(now),
            };
            return (synthesis, true);
        }, cancellationToken);
        if (!outcome.Replayed)
        {
            dualWrite.Record(checks);
        }

        return outcome;
    }

    /// <summary>The stage's newest synthesis (by creation time, then id), legacy ones included.</summary>
    /// <exception cref="NotFoundException">The stage has no synthesis.</exception>
    public async ValueTask<Synthesis> LatestAsync(string specId, string stage, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateScope(specId, stage);
        var row = await storage.ReadAsync("latest_synthesis", (connection, token) => connection.QueryPrepared<SynthesisRow>(LatestSql, ("@specId", specId), ("@stage", stage)).FirstOrDefault(), cancellationToken);
        return row?.ToModel() ?? throw new NotFoundException($"Spec '{specId}' has no synthesis for stage '{stage}'.");
    }

    private sealed class SynthesisRow
    {
        public long Id { get; set; }
        public long RunId { get; set; }
        public string SpecId { get; set; } = "";
        public string Stage { get; set; } = "";
        public string OutputMarkdown { get; set; } = "";
        public string? OutputPath { get; set; }
        public string Status { get; set; } = "";
        public long? ArtifactsCount { get; set; }
        public string? Agreements { get; set; }
        public string? Conflicts { get; set; }
        public long Degraded { get; set; }
        public long ConsensusOk { get; set; }
        public string? PipelineRunId { get; set; }
        public long RunTimestamp { get; set; }
        public long CreatedAt { get; set; }

        public Synthesis ToModel() => new()
        {
            Id = Id,
            RunId = RunId,
            SpecId = SpecId,
            Stage = Stage,
            OutputMarkdown = OutputMarkdown,
            OutputPath = OutputPath,
            Status = Status,
            ArtifactsCount = ArtifactsCount is { } count ? checked((int)count) : null,
            Agreements = Agreements,
            Conflicts = Conflicts,
            Degraded = Degraded != 0,
            ConsensusOk = ConsensusOk != 0,
            PipelineRunId = PipelineRunId,
            RunTimestamp = RunTimestamp,
            CreatedAt = Rows.FromUnixMs(CreatedAt),
        };
    }
}
