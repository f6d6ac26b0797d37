using ConsensusApi.Domain;
using ConsensusApi.Domain.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>
/// The Domain wired as the host wires it, on a fresh SQLite file in its own temporary folder
/// (WAL needs a real file). Settings are configuration keys, as in appsettings.json.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private TestDatabase(string folder, ServiceProvider services)
    {
        Folder = folder;
        _services = services;
    }

    /// <summary>The temporary folder holding the database (and anything else a test writes).</summary>
    public string Folder { get; }

    /// <summary>The database file.</summary>
    public string Path => Database.Path;

    /// <summary>All services.</summary>
    public IServiceProvider Services => _services;

    /// <summary>The opened database.</summary>
    public ConsensusDatabase Database => Get<ConsensusDatabase>();

    /// <summary>A service.</summary>
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Creates a temporary folder for a database file that does not exist yet.</summary>
    public static string NewFolder()
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "consensus-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Wires the Domain on <c>consensus.db</c> in a new folder (or <paramref name="path"/>) and opens it.</summary>
    public static async Task<TestDatabase> OpenAsync(
        IDictionary<string, string?>? settings = null,
        TimeProvider? timeProvider = null,
        string? path = null,
        Action<IServiceCollection>? configure = null)
    {
        var folder = path is null ? NewFolder() : System.IO.Path.GetDirectoryName(path)!;
        var values = new Dictionary<string, string?>
        {
            ["Database:Path"] = path ?? System.IO.Path.Combine(folder, "consensus.db"),
            ["Backup:Folder"] = System.IO.Path.Combine(folder, "backups"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddMetrics();
        if (timeProvider is not null)
        {
            services.AddSingleton(timeProvider);
        }

        configure?.Invoke(services);
        services.AddConsensusDomain();
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var database = new TestDatabase(folder, provider);
        try
        {
            await database.Database.OpenAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }

        return database;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open elsewhere: the OS temp folder is cleaned eventually.
        }
    }
}
