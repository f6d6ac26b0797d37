using System.Net;
using ConsensusApi.Domain.Options;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Tests.Endpoints;

/// <summary>
/// Runs alone: a refused start is reported on the process's standard error, which one test captures.
/// </summary>
[CollectionDefinition(nameof(ConfigurationTests), DisableParallelization = true)]
[Collection(nameof(ConfigurationTests))]
public class ConfigurationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DefaultsFromTheRootAppsettingsJsonBesideTheBinaryAreLive()
    {
        await using var factory = new ConsensusApiFactory();
        _ = factory.Server;
        var configuration = (IConfigurationRoot)factory.Services.GetRequiredService<IConfiguration>();

        var file = Assert.Single(configuration.Providers.OfType<JsonConfigurationProvider>(), provider => provider.Source.Path == "appsettings.json");

        var root = Assert.IsType<PhysicalFileProvider>(file.Source.FileProvider).Root;
        Assert.Equal(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), Path.TrimEndingDirectorySeparator(root));
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "appsettings.json"), Ct), await File.ReadAllTextAsync(Path.Combine(root, "appsettings.json"), Ct));
        Assert.True(file.TryGet("Limits:MaxBatchItems", out var maxBatchItems));
        Assert.Equal("1000", maxBatchItems);
        Assert.True(file.TryGet("Vacuum:Pages", out var pages));
        Assert.Equal("20", pages);
        Assert.Equal("*", configuration["AllowedHosts"]);
        Assert.Equal(1000, factory.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxBatchItems);
        Assert.Equal(20, factory.Services.GetRequiredService<IOptions<VacuumOptions>>().Value.Pages);
        Assert.Equal(1_048_576, factory.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxContentBytes);
        Assert.Equal(10, factory.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.PoolSize);
    }

    [Fact]
    public async Task SettingsOfTheTestHostOverrideTheFile()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxBatchItems"] = "7", ["Database:PoolSize"] = "4", ["Database:MinIdle"] = "1" });
        using var client = factory.CreateClient(TestKeys.Anonymous);

        Assert.Equal(7, factory.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxBatchItems);
        Assert.Equal(factory.DatabasePath, factory.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Path);
        Assert.True(File.Exists(factory.DatabasePath));
        var telemetry = await (await client.GetAsync("/api/v1/admin/telemetry", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(4, telemetry.GetProperty("pool").GetProperty("size").GetInt32());
    }

    public static TheoryData<string, string, string> InvalidValues() => new()
    {
        { "Database:PoolSize", "0", "Database:PoolSize must be between 2 and 256." },
        { "Database:MinIdle", "11", "Database:MinIdle must be <= Database:PoolSize." },
        { "Database:BusyTimeoutMs", "-1", "Database:BusyTimeoutMs" },
        { "Limits:MaxContentBytes", "0", "Limits:MaxContentBytes must be between 1 and 268435456." },
        { "Limits:MaxBatchItems", "0", "Limits:MaxBatchItems" },
        { "Limits:MaxRequestBodyBytes", "100", "Limits:MaxRequestBodyBytes" },
        { "Vacuum:Pages", "0", "Vacuum:Pages" },
        { "Vacuum:Interval", "00:00:00", "Vacuum:Interval" },
        { "Backup:Folder", "", "Backup:Folder must be set." },
        { "Retry:MaxAttempts", "0", "Retry:MaxAttempts must be between 1 and 20." },
        { "Retry:InitialBackoffMs", "20000", "Retry:InitialBackoffMs must be <= Retry:MaxBackoffMs." },
        { "Auth:ApiKeys:0:Role", "root", "Auth:ApiKeys:0:Role must be one of reader, writer, admin." },
        { "Auth:ApiKeys:0:Key", "sha256:abc", "Auth:ApiKeys:0:Key" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public async Task AnInvalidValueStopsTheHostWithAnOptionsValidationExceptionNamingTheKey(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (key.StartsWith("Auth:", StringComparison.Ordinal))
        {
            settings.TryAdd("Auth:ApiKeys:0:Name", "ops");
            settings.TryAdd("Auth:ApiKeys:0:Key", "a-key");
            settings.TryAdd("Auth:ApiKeys:0:Role", "admin");
        }

        await using var factory = new ConsensusApiFactory(settings);

        var failure = Assert.IsType<OptionsValidationException>(factory.StartupFailure());

        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(factory.DatabasePath), "Nothing may be created before the configuration is valid.");
    }

    [Fact]
    public async Task InvalidValuesInSeveralSectionsAreAllReported()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxContentBytes"] = "0", ["Vacuum:Pages"] = "0" });

        var failure = Assert.IsType<AggregateException>(factory.StartupFailure());

        Assert.All(failure.InnerExceptions, inner => Assert.IsType<OptionsValidationException>(inner));
        Assert.Contains(failure.InnerExceptions, inner => inner.Message.Contains("Limits:MaxContentBytes", StringComparison.Ordinal));
        Assert.Contains(failure.InnerExceptions, inner => inner.Message.Contains("Vacuum:Pages", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Database:PoolSize", "0", null, null)]
    [InlineData("Limits:MaxContentBytes", "0", "Vacuum:Pages", "0")]
    public async Task ARefusedStartIsOneLineOnStandardErrorNamingEveryKey(string key, string value, string? otherKey, string? otherValue)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (otherKey is not null)
        {
            settings[otherKey] = otherValue;
        }

        await using var factory = new ConsensusApiFactory(settings);
        var original = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            factory.StartupFailure();
        }
        finally
        {
            Console.SetError(original);
        }

        var line = Assert.Single(captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("ConsensusApi cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(key, line, StringComparison.Ordinal);
        if (otherKey is not null)
        {
            Assert.Contains(otherKey, line, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AValueOfTheWrongTypeStopsTheHostNamingTheKey()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxBatchItems"] = "lots" });

        var failure = factory.StartupFailure();

        Assert.Contains("Limits:MaxBatchItems", failure.Message, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "ConsensusApi.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("ConsensusApi.sln not found above " + AppContext.BaseDirectory);
    }
}
