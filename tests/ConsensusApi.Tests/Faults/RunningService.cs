using System.Net;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// The service as a real process on a given database file, ready to serve, with a client.
/// Settings are configuration keys (<c>Database:BusyTimeoutMs</c>), passed as environment
/// variables the way an operator would.
/// </summary>
public sealed class RunningService : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private RunningService(ServiceProcess process, string databasePath)
    {
        Process = process;
        DatabasePath = databasePath;
        Client = NewClient();
    }

    /// <summary>The process.</summary>
    public ServiceProcess Process { get; }

    /// <summary>The database file it serves.</summary>
    public string DatabasePath { get; }

    /// <summary>A client on its address (no API key).</summary>
    public HttpClient Client { get; }

    /// <summary>Starts the service in the database's folder and waits until it is ready.</summary>
    public static async Task<RunningService> StartAsync(string databasePath, IReadOnlyDictionary<string, string>? settings, CancellationToken cancellationToken)
    {
        var process = ServiceProcess.Start(Path.GetDirectoryName(databasePath)!, Environment(databasePath, settings));
        var service = new RunningService(process, databasePath);
        if (!await process.WaitUntilReadyAsync(StartTimeout, cancellationToken))
        {
            var output = process.Output;
            await service.DisposeAsync();
            Assert.Fail("The service did not become ready:\n" + output);
        }

        return service;
    }

    /// <summary>The environment that gives the service <paramref name="settings"/> on <paramref name="databasePath"/>.</summary>
    public static Dictionary<string, string> Environment(string databasePath, IReadOnlyDictionary<string, string>? settings)
    {
        var folder = Path.GetDirectoryName(databasePath)!;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Database__Path"] = databasePath,
            ["Backup__Folder"] = Path.Combine(folder, "backups"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return environment;
    }

    /// <summary>A new client on the service's address, with its own connections.</summary>
    public HttpClient NewClient(TimeSpan? timeout = null) => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        BaseAddress = Process.BaseAddress,
        Timeout = timeout ?? TimeSpan.FromSeconds(30),
    };

    /// <summary>SIGTERM, then the exit code.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        Process.Terminate();
        return await Process.WaitForExitAsync(TimeSpan.FromSeconds(60), cancellationToken);
    }

    /// <summary>True while <c>/health/ready</c> answers 200.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        using var response = await Client.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken);
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Process.DisposeAsync();
    }
}
