using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Validation;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>Specs as a whole: their summaries, and deleting a spec or a stage in both schemas.</summary>
public sealed class SpecRepository(StorageExecutor storage)
{
    /// <summary>The stages of the specs of a page.</summary>
    internal const string StagesSql = "SELECT spec_id, stage FROM spec_stages WHERE spec_id IN @ids ORDER BY spec_id, stage";

    /// <summary>A page of specs by latest activity, newest first, optionally after a cursor.</summary>
    internal static string ListSql(bool afterCursor) => $"""
        SELECT spec_id AS SpecId, run_count AS RunCount, artifact_count AS ArtifactCount, last_activity_at AS LastActivityAt
        FROM specs
        {(afterCursor ? "WHERE (last_activity_at, spec_id) < (@ts, @key)" : "")}
        ORDER BY last_activity_at DESC, spec_id DESC
        """;

    /// <summary>Specs by latest activity, newest first, with counts over all their stages.</summary>
    public ValueTask<Page<SpecSummary>> ListAsync(PageRequest page, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateLimit(page.Limit);
        var after = Cursor.DecodeKeyed(page.Cursor);
        var sql = ListSql(afterCursor: after is not null);
        return storage.ReadAsync("list_specs", (connection, token) =>
        {
            var rows = connection.QueryPrepared<SpecRow>(sql, page.Limit + 1, ("@ts", after?.Timestamp), ("@key", after?.Key));
            var more = rows.Count > page.Limit;
            var pageRows = rows.Take(page.Limit).ToList();
            var stages = connection.Query<(string SpecId, string Stage)>(new CommandDefinition(
                    StagesSql, new { ids = pageRows.Select(row => row.SpecId).ToArray() }, cancellationToken: token))
                .ToLookup(row => row.SpecId, row => row.Stage, StringComparer.Ordinal);
            var items = pageRows.Select(row => new SpecSummary
            {
                SpecId = row.SpecId,
                Stages = stages[row.SpecId].ToList(),
                RunCount = row.RunCount,
                ArtifactCount = row.ArtifactCount,
                LastActivityAt = Rows.FromUnixMs(row.LastActivityAt),
            }).ToList();
            return new Page<SpecSummary>(items, more ? Cursor.Encode(pageRows[^1].LastActivityAt, pageRows[^1].SpecId) : null);
        }, cancellationToken);
    }

    /// <summary>Removes everything stored for a spec, in both schemas, in one transaction.</summary>
    /// <exception cref="NotFoundException">Nothing was stored for it.</exception>
    public ValueTask<DeleteResult> DeleteSpecAsync(string specId, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateSpecId(specId);
        return storage.WriteAsync("delete_spec", (connection, _) =>
            Delete(connection, "spec_id = @specId", new { specId }) ?? throw new NotFoundException($"Nothing is stored for spec '{specId}'."),
            cancellationToken);
    }

    /// <summary>Removes everything stored for one stage of a spec, in both schemas, in one transaction.</summary>
    /// <exception cref="NotFoundException">Nothing was stored for it.</exception>
    public ValueTask<DeleteResult> DeleteStageAsync(string specId, string stage, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateScope(specId, stage);
        return storage.WriteAsync("delete_stage", (connection, _) =>
            Delete(connection, "spec_id = @specId AND stage = @stage", new { specId, stage })
                ?? throw new NotFoundException($"Nothing is stored for stage '{stage}' of spec '{specId}'."),
            cancellationToken);
    }

    private static DeleteResult? Delete(SqliteConnection connection, string scope, object parameters)
    {
        var artifacts = connection.Execute($"DELETE FROM agent_outputs WHERE {scope}", parameters);
        connection.Execute($"DELETE FROM run_syntheses WHERE {scope}", parameters);
        var runs = connection.Execute($"DELETE FROM consensus_runs WHERE {scope}", parameters);
        var legacyArtifacts = connection.Execute($"DELETE FROM consensus_artifacts WHERE {scope}", parameters);
        var legacySyntheses = connection.Execute($"DELETE FROM consensus_synthesis WHERE {scope}", parameters);
        return runs + artifacts + legacyArtifacts + legacySyntheses == 0
            ? null
            : new DeleteResult(runs, artifacts, legacyArtifacts, legacySyntheses);
    }

    private sealed class SpecRow
    {
        public string SpecId { get; set; } = "";
        public long RunCount { get; set; }
        public long ArtifactCount { get; set; }
        public long LastActivityAt { get; set; }
    }
}
