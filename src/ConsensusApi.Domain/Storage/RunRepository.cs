using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Validation;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>Consensus runs, keyed by spec, stage and run timestamp.</summary>
public sealed class RunRepository(StorageExecutor storage)
{
    /// <summary>One run by id.</summary>
    internal const string GetSql = $"SELECT {Rows.RunColumns} FROM consensus_runs r WHERE r.id = @id";

    /// <summary>A stage's newest run.</summary>
    internal const string LatestSql = $"""
        SELECT {Rows.RunColumns} FROM consensus_runs r
        WHERE r.spec_id = @specId AND r.stage = @stage
        ORDER BY r.run_timestamp DESC, r.id DESC LIMIT 1
        """;

    /// <summary>A run's outputs, oldest first.</summary>
    internal const string OutputsSql =
        $"SELECT {Rows.ArtifactColumns} FROM agent_outputs o JOIN consensus_runs r ON r.id = o.run_id WHERE o.run_id = @runId ORDER BY o.id";

    /// <summary>A page of a stage's runs, newest first, optionally after a cursor.</summary>
    internal static string ListSql(bool afterCursor) => $"""
        SELECT {Rows.RunColumns} FROM consensus_runs r
        WHERE r.spec_id = @specId AND r.stage = @stage
        {(afterCursor ? "AND (r.run_timestamp, r.id) < (@ts, @id)" : "")}
        ORDER BY r.run_timestamp DESC, r.id DESC
        """;

    private const string RunIdSql = "SELECT id FROM consensus_runs WHERE spec_id = @specId AND stage = @stage AND run_timestamp = @runTimestamp";

    private const string UpsertSql = """
        INSERT INTO consensus_runs AS r (spec_id, stage, run_timestamp, consensus_ok, degraded, synthesis_json, created_at)
        VALUES (@specId, @stage, @runTimestamp, @consensusOk, coalesce(@degraded, 0), @synthesis, @now)
        ON CONFLICT (spec_id, stage, run_timestamp) DO UPDATE SET
            consensus_ok = excluded.consensus_ok,
            degraded = CASE WHEN @degraded IS NULL THEN r.degraded ELSE excluded.degraded END,
            synthesis_json = CASE WHEN @synthesis IS NULL THEN r.synthesis_json ELSE excluded.synthesis_json END
        RETURNING id AS Id, spec_id AS SpecId, stage AS Stage, run_timestamp AS RunTimestamp,
                  consensus_ok AS ConsensusOk, coalesce(degraded, 0) AS Degraded, synthesis_json AS SynthesisJson
        """;

    /// <summary>Inserts the run or updates it; omitted fields keep their stored values on update.</summary>
    public ValueTask<WriteOutcome<Run>> UpsertAsync(RunUpsertRequest request, IdempotencyKey? key, CancellationToken cancellationToken)
    {
        RequestValidator.Validate(request);
        var synthesis = request.Synthesis is { ValueKind: System.Text.Json.JsonValueKind.Object } value ? value.GetRawText() : null;
        return storage.WriteOnceAsync("upsert_run", key, (connection, now, _) =>
        {
            var existed = PreparedStatements.Get(connection, RunIdSql, "@specId", "@stage", "@runTimestamp")
                .Bind(request.SpecId, request.Stage, request.RunTimestamp)
                .ExecuteScalar() is not null;
            var row = connection.QueryPrepared<RunRow>(UpsertSql,
                ("@specId", request.SpecId), ("@stage", request.Stage), ("@runTimestamp", request.RunTimestamp), ("@consensusOk", request.ConsensusOk),
                ("@degraded", request.Degraded), ("@synthesis", synthesis), ("@now", now)).Single();
            return (row.ToModel(Outputs(connection, row.Id)), !existed);
        }, cancellationToken);
    }

    /// <summary>One run with its outputs.</summary>
    /// <exception cref="NotFoundException">No run has that id.</exception>
    public async ValueTask<Run> GetAsync(long id, CancellationToken cancellationToken) =>
        await storage.ReadAsync("get_run", (connection, token) =>
        {
            var row = connection.QueryPrepared<RunRow>(GetSql, ("@id", id)).FirstOrDefault();
            return row?.ToModel(Outputs(connection, row.Id));
        }, cancellationToken) ?? throw new NotFoundException($"Run {id} does not exist.");

    /// <summary>The stage's newest run with its outputs.</summary>
    /// <exception cref="NotFoundException">The stage has no run.</exception>
    public async ValueTask<Run> LatestAsync(string specId, string stage, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateScope(specId, stage);
        return await storage.ReadAsync("latest_run", (connection, token) =>
        {
            var row = connection.QueryPrepared<RunRow>(LatestSql, ("@specId", specId), ("@stage", stage)).FirstOrDefault();
            return row?.ToModel(Outputs(connection, row.Id));
        }, cancellationToken) ?? throw new NotFoundException($"Spec '{specId}' has no run for stage '{stage}'.");
    }

    /// <summary>A stage's runs, newest first, without outputs.</summary>
    public ValueTask<Page<Run>> ListAsync(string specId, string stage, PageRequest page, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateScope(specId, stage);
        RequestValidator.ValidateLimit(page.Limit);
        var after = Cursor.DecodeNumeric(page.Cursor);
        var sql = ListSql(afterCursor: after is not null);
        return storage.ReadAsync("list_runs", (connection, token) =>
        {
            var rows = connection.QueryPrepared<RunRow>(sql, page.Limit + 1,
                ("@specId", specId), ("@stage", stage), ("@ts", after?.Timestamp), ("@id", after?.Id));
            var more = rows.Count > page.Limit;
            var items = rows.Take(page.Limit).Select(row => row.ToModel(null)).ToList();
            return new Page<Run>(items, more ? Cursor.Encode(rows[page.Limit - 1].RunTimestamp, rows[page.Limit - 1].Id) : null);
        }, cancellationToken);
    }

    /// <summary>The id of the run at (spec, stage, timestamp), created with <c>consensus_ok = false</c> when absent.</summary>
    internal static long EnsureRun(SqliteConnection connection, string specId, string stage, long runTimestamp, long now) =>
        PreparedStatements.Get(connection, EnsureRunSql, "@specId", "@stage", "@runTimestamp", "@now")
            .Bind(specId, stage, runTimestamp, now)
            .ExecuteInt64();

    private const string EnsureRunSql = """
        INSERT INTO consensus_runs (spec_id, stage, run_timestamp, consensus_ok, degraded, synthesis_json, created_at)
        VALUES (@specId, @stage, @runTimestamp, 0, 0, NULL, @now)
        ON CONFLICT (spec_id, stage, run_timestamp) DO UPDATE SET spec_id = excluded.spec_id
        RETURNING id
        """;

    internal static List<Artifact> Outputs(SqliteConnection connection, long runId) =>
        connection.QueryPrepared(OutputsSql, Rows.ReadArtifact, ("@runId", runId));
}
