using System.Net;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// A database the service itself wrote, with data, closed cleanly: the real thing to damage.
/// Built once per test class by a real process (600 small artifacts, a few syntheses), then
/// stopped with SIGTERM so everything is checkpointed into the file.
/// </summary>
public sealed class RealDatabaseFixture : IAsyncLifetime
{
    public string Folder { get; } = TestDatabase.NewFolder();

    /// <summary>The template file; copy it, never change it.</summary>
    public string Path => System.IO.Path.Combine(Folder, "template.db");

    /// <summary>Artifacts stored in it.</summary>
    public int Artifacts { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var service = await RunningService.StartAsync(Path, null, ct);
        for (var batch = 0; batch < 6; batch++)
        {
            var items = Enumerable.Range(0, 100).Select(i => Requests.Artifact(
                specId: $"SPEC-REAL-{batch}",
                agentName: $"agent-{i % 3}",
                content: $$"""{"n":{{i}},"note":"small content so that pages hold many cells"}""",
                runTimestamp: 1764118923456 + batch)).ToArray();
            using var response = await service.Client.PostAsync(new Uri("/api/v1/artifacts/batch", UriKind.Relative), HttpAssertions.Json(Requests.Batch(items)), ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Artifacts += items.Length;
            using var synthesis = await service.Client.PostAsync(new Uri("/api/v1/synthesis", UriKind.Relative),
                HttpAssertions.Json(Requests.Synthesis(specId: $"SPEC-REAL-{batch}", runTimestamp: 1764118923456 + batch)), ct);
            Assert.Equal(HttpStatusCode.Created, synthesis.StatusCode);
        }

        Assert.Equal(0, await service.StopAsync(ct));
        Assert.False(File.Exists(Path + "-wal") && new FileInfo(Path + "-wal").Length > 0, "checkpointed on shutdown");
        DatabaseFile.AssertConsistent(Path);
    }

    /// <summary>A fresh copy of the template in a new folder.</summary>
    public string Copy(string name = "consensus.db")
    {
        var target = System.IO.Path.Combine(TestDatabase.NewFolder(), name);
        File.Copy(Path, target);
        return target;
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Cleaned with the temp folder eventually.
        }

        return ValueTask.CompletedTask;
    }
}

