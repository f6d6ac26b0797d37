using System.Net;
using System.Net.Http.Json;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Processes;

/// <summary>SIGTERM stops the service cleanly: exit code 0, nothing acknowledged lost, the WAL checkpointed.</summary>
public class ShutdownProcessTests
{
    [Fact]
    public async Task SigtermExitsWithZeroAndLeavesEveryAcknowledgedWriteInACheckpointedFile()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = TestDatabase.NewFolder();
        var path = Path.Combine(folder, "consensus.db");
        await using var service = ServiceProcess.Start(folder, new Dictionary<string, string> { ["Database__Path"] = path });
        Assert.True(await service.WaitUntilReadyAsync(TimeSpan.FromSeconds(60), ct), service.Output);

        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        var acknowledged = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = 10, CancellationToken = ct }, async (i, token) =>
        {
            using var response = await client.PostAsJsonAsync("/api/v1/artifacts", new
            {
                specId = "SPEC-SHUTDOWN",
                stage = "spec-plan",
                agentName = $"agent-{i}",
                content = new { i },
                runTimestamp = 1764118923456,
            }, token);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                Interlocked.Increment(ref acknowledged);
            }
        });

        service.Terminate();
        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.Equal(0, exitCode);
        Assert.Equal(50, acknowledged);
        var wal = new FileInfo(path + "-wal");
        Assert.True(!wal.Exists || wal.Length == 0, "the WAL was checkpointed and truncated on shutdown");
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(ct);
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT (SELECT count(*) FROM consensus_artifacts), (SELECT count(*) FROM agent_outputs)";
        await using var reader = await count.ExecuteReaderAsync(ct);
        Assert.True(await reader.ReadAsync(ct));
        Assert.Equal(50, reader.GetInt64(0));
        Assert.Equal(50, reader.GetInt64(1));
        Assert.Contains("closed", service.Output, StringComparison.Ordinal);
    }
}
