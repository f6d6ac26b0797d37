using System.Net;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Faults;

/// <summary>Maintenance calls that arrive at the same moment, as two operators or a retrying script would send them.</summary>
public class ConcurrentMaintenanceTests
{
    private const int Calls = 8;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BackupsStartedTogetherEachWriteTheirOwnCompleteFile()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);

        var answers = await Task.WhenAll(Enumerable.Range(0, Calls).Select(_ => client.PostAsync(new Uri("/api/v1/admin/backup", UriKind.Relative), null, Ct)));

        var paths = new List<string>();
        foreach (var answer in answers)
        {
            paths.Add((await answer.AssertJsonAsync(HttpStatusCode.OK)).GetProperty("path").GetString()!);
        }

        Assert.Equal(Calls, paths.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(paths.Order(StringComparer.Ordinal), Directory.GetFiles(factory.BackupFolder).Order(StringComparer.Ordinal));
        Assert.All(paths, path => Assert.Equal(1, DatabaseFile.Scalar(path, "SELECT count(*) FROM agent_outputs")));
    }

    [Fact]
    public async Task BackupsSentTogetherWithOneIdempotencyKeyRunOnce()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var answers = await Task.WhenAll(Enumerable.Range(0, Calls).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/backup");
            request.Headers.Add("Idempotency-Key", "nightly-backup-1");
            return client.SendAsync(request, Ct);
        }));

        var bodies = new List<string>();
        foreach (var answer in answers)
        {
            bodies.Add((await answer.AssertJsonAsync(HttpStatusCode.OK)).GetRawText());
        }

        Assert.Single(bodies.Distinct(StringComparer.Ordinal));
        Assert.Single(Directory.GetFiles(factory.BackupFolder));
        Assert.Equal(Calls - 1, answers.Count(answer => answer.Headers.Contains("Idempotent-Replayed")));
    }
}
