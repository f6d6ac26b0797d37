using System.Text.Json;
using ConsensusApi.Domain;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Benchmarks;

/// <summary>The Domain wired as the host wires it, on a fresh database in a temporary folder, seeded.</summary>
public sealed class BenchmarkDatabase : IAsyncDisposable
{
    public const string SpecId = "SPEC-BENCH";
    public const string Stage = "spec-plan";

    private readonly ServiceProvider _services;

    private BenchmarkDatabase(string folder, ServiceProvider services)
    {
        Folder = folder;
        _services = services;
    }

    public string Folder { get; }

    public ConsensusDatabase Database => _services.GetRequiredService<ConsensusDatabase>();

    public ArtifactRepository Artifacts => _services.GetRequiredService<ArtifactRepository>();

    public RunRepository Runs => _services.GetRequiredService<RunRepository>();

    public string Path => Database.Path;

    public static string NewFolder()
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "consensus-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Opens a database with <paramref name="seed"/> artifacts over three agents of one stage.</summary>
    public static async Task<BenchmarkDatabase> OpenAsync(int seed, IDictionary<string, string?>? settings = null)
    {
        var folder = NewFolder();
        var values = new Dictionary<string, string?> { ["Database:Path"] = System.IO.Path.Combine(folder, "consensus.db") };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build())
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddMetrics()
            .AddConsensusDomain()
            .BuildServiceProvider();
        var database = new BenchmarkDatabase(folder, services);
        await database.Database.OpenAsync(CancellationToken.None);
        for (var start = 0; start < seed; start += 1000)
        {
            var items = Enumerable.Range(start, Math.Min(1000, seed - start)).Select(Request).ToList();
            await database.Artifacts.StoreBatchAsync(new ArtifactBatchRequest { Items = items }, null, CancellationToken.None);
        }

        return database;
    }

    /// <summary>The n-th artifact of the benchmarks: three agents per run, small JSON content.</summary>
    public static ArtifactRequest Request(int n) => new()
    {
        SpecId = SpecId,
        Stage = Stage,
        AgentName = "agent-" + (n % 3),
        Content = JsonSerializer.SerializeToElement(new { plan = new[] { "storage", "http" }, n }),
        ResponseText = "response " + n,
        ModelVersion = "model-1",
        PipelineRunId = "pipeline-" + (n / 3),
        RunTimestamp = 1_764_118_923_456L + (n / 3),
    };

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}
