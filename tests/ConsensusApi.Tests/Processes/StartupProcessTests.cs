using System.Net;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Processes;

/// <summary>The service as a real process: start-up rules that only a process shows.</summary>
public class StartupProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task OpenServiceRefusesToListenOnANonLoopbackAddress()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = TestDatabase.NewFolder();
        await using var service = ServiceProcess.Start(folder, urls: "http://0.0.0.0:5999");

        var exitCode = await service.WaitForExitAsync(StartTimeout, ct);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("no API keys are configured (Auth:ApiKeys)", service.Output, StringComparison.Ordinal);
        Assert.Contains("http://0.0.0.0:5999", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceWithKeysListensOnAnyAddress()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = TestDatabase.NewFolder();
        var port = new Uri($"http://127.0.0.1:{Random.Shared.Next(20000, 30000)}").Port;
        await using var service = ServiceProcess.Start(folder, new Dictionary<string, string>
        {
            ["Auth__ApiKeys__0__Name"] = "ops",
            ["Auth__ApiKeys__0__Key"] = "a-long-operator-key",
            ["Auth__ApiKeys__0__Role"] = "admin",
        }, urls: $"http://0.0.0.0:{port}");

        Assert.True(await service.WaitUntilReadyAsync(StartTimeout, ct), service.Output);
    }

    [Fact]
    public async Task ServiceStartedElsewhereReadsItsSettingsFileAndCreatesTheDatabaseUnderTheWorkingDirectory()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = TestDatabase.NewFolder();
        await using var service = ServiceProcess.Start(folder);

        Assert.True(await service.WaitUntilReadyAsync(StartTimeout, ct), service.Output);
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        using var response = await client.GetAsync(new Uri("/api/v1/admin/storage", UriKind.Relative), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(File.Exists(Path.Combine(folder, "data", "consensus_artifacts.db")), "the default Database:Path of appsettings.json, relative to the working directory");
    }

    [Fact]
    public async Task ServiceWatchesNoFolderSoWritesToADatabaseUnderTheContentRootWakeNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = TestDatabase.NewFolder();
        Directory.CreateDirectory(Path.Combine(folder, "nested", "deeper"));
        await using var service = ServiceProcess.Start(folder);

        Assert.True(await service.WaitUntilReadyAsync(StartTimeout, ct), service.Output);

        // The working directory is the content root, and the default database lives under it.
        Assert.True(File.Exists(Path.Combine(folder, "data", "consensus_artifacts.db")));
        Assert.Empty(InotifyWatches(service.Id));
    }

    /// <summary>The <c>inotify wd:</c> lines of every inotify instance the process holds (Linux).</summary>
    private static List<string> InotifyWatches(int pid)
    {
        var watches = new List<string>();
        foreach (var descriptor in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            if (new FileInfo(descriptor).LinkTarget == "anon_inode:inotify")
            {
                watches.AddRange(File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(descriptor)}")
                    .Where(line => line.StartsWith("inotify wd:", StringComparison.Ordinal)));
            }
        }

        return watches;
    }

    [Fact]
    public async Task InvalidSettingsStopTheServiceWithOneLineNamingEveryKey()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = TestDatabase.NewFolder();
        await using var service = ServiceProcess.Start(folder, new Dictionary<string, string> { ["Vacuum__Pages"] = "0", ["Database__PoolSize"] = "0" });

        var exitCode = await service.WaitForExitAsync(StartTimeout, ct);

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(service.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("ConsensusApi cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains("Vacuum:Pages", line, StringComparison.Ordinal);
        Assert.Contains("Database:PoolSize", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddressAlreadyInUseStopsTheServiceWithOneLineNamingIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var folder = TestDatabase.NewFolder();
        await using var service = ServiceProcess.Start(folder, urls: $"http://127.0.0.1:{port}");

        var exitCode = await service.WaitForExitAsync(StartTimeout, ct);

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(service.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), l => l.StartsWith("ConsensusApi cannot start: ", StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("address already in use", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileThatIsNotADatabaseIsRefusedAndLeftUnmodified()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = TestDatabase.NewFolder();
        var path = Path.Combine(folder, "notes.db");
        var bytes = "these are meeting notes, not a database"u8.ToArray();
        await File.WriteAllBytesAsync(path, bytes, ct);
        await using var service = ServiceProcess.Start(folder, new Dictionary<string, string> { ["Database__Path"] = path });

        var exitCode = await service.WaitForExitAsync(StartTimeout, ct);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("is not a SQLite database", service.Output, StringComparison.Ordinal);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path, ct));
    }
}
