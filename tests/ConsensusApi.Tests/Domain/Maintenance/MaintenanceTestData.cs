using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Maintenance;

/// <summary>Bulk data and file probes shared by the maintenance tests.</summary>
internal static class MaintenanceTestData
{
    /// <summary>Stores <paramref name="count"/> artifacts of about <paramref name="contentBytes"/> bytes each for <paramref name="specId"/>, in batches.</summary>
    public static async Task FillAsync(TestDatabase db, string specId, int count, int contentBytes, CancellationToken cancellationToken)
    {
        var artifacts = db.Get<ArtifactRepository>();
        var text = new string('x', contentBytes);
        for (var start = 0; start < count; start += 1000)
        {
            var items = Enumerable.Range(start, Math.Min(1000, count - start))
                .Select(i => Artifact(specId, agentName: $"agent-{i % 3}", runTimestamp: 1000 + (i / 3), content: $$"""{"i":{{i}},"text":"{{text}}"}"""))
                .ToList();
            await artifacts.StoreBatchAsync(new ArtifactBatchRequest { Items = items }, null, cancellationToken);
        }
    }

    /// <summary>Fills the legacy schema the way the terminal UI does, before the service ever opens the file.</summary>
    public static void FillLegacy(Microsoft.Data.Sqlite.SqliteConnection connection, string specId, int count, int contentBytes)
    {
        using var transaction = connection.BeginTransaction();
        var text = new string('x', contentBytes);
        for (var i = 0; i < count; i++)
        {
            connection.Execute(
                "INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, run_id, created_at) VALUES (@specId, 'spec-plan', 'gemini', @content, @run, '2025-06-01 12:00:00')",
                new { specId, content = $$"""{"i":{{i}},"text":"{{text}}"}""", run = $"run-{i / 3}" },
                transaction);
        }

        transaction.Commit();
    }

    public static string IntegrityCheck(string path)
    {
        using var connection = OpenRaw(path);
        return connection.ExecuteScalar<string>("PRAGMA integrity_check") ?? "";
    }
}
