using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Validation;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>Agent outputs: stored in both schemas at once, read from the normalized one.</summary>
public sealed class ArtifactRepository(StorageExecutor storage, RequestValidator validator, DualWriteTelemetry dualWrite)
{
    /// <summary>One artifact by id.</summary>
    internal const string GetSql =
        $"SELECT {Rows.ArtifactColumns} FROM agent_outputs o JOIN consensus_runs r ON r.id = o.run_id WHERE o.id = @id";

    /// <summary>A page of a stage's artifacts, newest first, optionally of one agent and after a cursor.</summary>
    internal static string ListSql(bool byAgent, bool afterCursor) => $"""
        SELECT {Rows.ArtifactColumns}
        FROM agent_outputs o JOIN consensus_runs r ON r.id = o.run_id
        WHERE o.spec_id = @specId AND o.stage = @stage
        {(byAgent ? "AND o.agent_name = @agentName" : "")}
        {(afterCursor ? "AND (o.output_timestamp, o.id) < (@ts, @id)" : "")}
        ORDER BY o.output_timestamp DESC, o.id DESC
        """;

    /// <summary>Stores one artifact (dual-write), creating its run when absent.</summary>
    public async ValueTask<WriteOutcome<Artifact>> StoreAsync(ArtifactRequest request, IdempotencyKey? key, CancellationToken cancellationToken)
    {
        validator.Validate(request);
        var checks = new List<DualWriteCheck>(1);
        var outcome = await storage.WriteOnceAsync("store_artifact", key, (connection, now, _) =>
        {
            checks.Clear();
            return (Insert(connection, request, now, checks), true);
        }, cancellationToken);
        if (!outcome.Replayed)
        {
            dualWrite.Record(checks);
        }

        return outcome;
    }

    /// <summary>Stores every artifact of a batch in one transaction, or none.</summary>
    public async ValueTask<WriteOutcome<ArtifactBatch>> StoreBatchAsync(ArtifactBatchRequest request, IdempotencyKey? key, CancellationToken cancellationToken)
    {
        validator.Validate(request);
        var items = request.Items!;
        var checks = new List<DualWriteCheck>(items.Count);
        var outcome = await storage.WriteOnceAsync("store_artifact_batch", key, (connection, now, token) =>
        {
            checks.Clear();
            var stored = new List<Artifact>(items.Count);
            foreach (var item in items)
            {
                token.ThrowIfCancellationRequested();
                stored.Add(Insert(connection, item, now, checks));
            }

            return (new ArtifactBatch(stored), true);
        }, cancellationToken);
        if (!outcome.Replayed)
        {
            dualWrite.Record(checks);
        }

        return outcome;
    }

    /// <summary>One artifact by id.</summary>
    /// <exception cref="NotFoundException">No artifact has that id.</exception>
    public async ValueTask<Artifact> GetAsync(long id, CancellationToken cancellationToken)
    {
        var artifact = await storage.ReadAsync("get_artifact", (connection, _) => connection.QueryPrepared(GetSql, Rows.ReadArtifact, ("@id", id)).FirstOrDefault(), cancellationToken);
        return artifact ?? throw new NotFoundException($"Artifact {id} does not exist.");
    }

    /// <summary>A stage's artifacts, newest first, optionally of one agent.</summary>
    public ValueTask<Page<Artifact>> ListAsync(string specId, string stage, string? agentName, PageRequest page, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateScope(specId, stage);
        RequestValidator.ValidateLimit(page.Limit);
        if (agentName is not null && !Identifiers.IsName(agentName))
        {
            throw DomainValidationException.For("agentName", "agentName must be 1-128 characters without control characters.");
        }

        var after = Cursor.DecodeNumeric(page.Cursor);
        var sql = ListSql(byAgent: agentName is not null, afterCursor: after is not null);
        return storage.ReadAsync("list_artifacts", (connection, _) =>
        {
            var rows = connection.QueryPrepared(sql, page.Limit + 1, Rows.ReadArtifact,
                ("@specId", specId), ("@stage", stage), ("@agentName", agentName), ("@ts", after?.Timestamp), ("@id", after?.Id));
            if (rows.Count <= page.Limit)
            {
                return new Page<Artifact>(rows, null);
            }

            rows.RemoveAt(page.Limit);
            var last = rows[^1];
            return new Page<Artifact>(rows, Cursor.Encode(last.CreatedAt.ToUnixTimeMilliseconds(), last.Id));
        }, cancellationToken);
    }

    /// <summary>Writes the legacy row, the run (when absent) and the normalized row with the same id and time, then reads both back.</summary>
    internal static Artifact Insert(SqliteConnection connection, ArtifactRequest request, long now, List<DualWriteCheck> checks)
    {
        var content = request.Content!.Value.GetRawText();
        var runTimestamp = request.RunTimestamp ?? now;
        var id = PreparedStatements.Get(connection, InsertLegacySql, "@specId", "@stage", "@agentName", "@content", "@responseText", "@pipelineRunId", "@createdAt")
            .Bind(request.SpecId, request.Stage, request.AgentName, content, request.ResponseText, request.PipelineRunId, LegacyTime.Format(now))
            .ExecuteInt64();
        var runId = RunRepository.EnsureRun(connection, request.SpecId!, request.Stage!, runTimestamp, now);
        PreparedStatements.Get(connection, InsertOutputSql, "@id", "@runId", "@agentName", "@modelVersion", "@content", "@now", "@specId", "@stage", "@responseText", "@pipelineRunId")
            .Bind(id, runId, request.AgentName, request.ModelVersion, content, now, request.SpecId, request.Stage, request.ResponseText, request.PipelineRunId)
            .ExecuteNonQuery();
        checks.Add(DualWriteValidator.CheckArtifact(connection, id));
        return new Artifact
        {
            Id = id,
            RunId = runId,
            RunTimestamp = runTimestamp,
            SpecId = request.SpecId!,
            Stage = request.Stage!,
            AgentName = request.AgentName!,
            ModelVersion = request.ModelVersion,
            Content = request.Content.Value.Clone(),
            ResponseText = request.ResponseText,
            PipelineRunId = request.PipelineRunId,
            CreatedAt = Rows.FromUnixMs(now),
        };
    }

    private const string InsertLegacySql = """
        INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at)
        VALUES (@specId, @stage, @agentName, @content, @responseText, @pipelineRunId, @createdAt)
        RETURNING id
        """;

    private const string InsertOutputSql = """
        INSERT INTO agent_outputs (id, run_id, agent_name, model_version, content, output_timestamp, spec_id, stage, response_text, pipeline_run_id)
        VALUES (@id, @runId, @agentName, @modelVersion, @content, @now, @specId, @stage, @responseText, @pipelineRunId)
        """;
}
