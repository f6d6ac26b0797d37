using ConsensusApi.Domain;
using ConsensusApi.Domain.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

// Not "ConsensusApi.Tests.Domain.Options": a namespace of that name would shadow
// Microsoft.Extensions.Options.Options (Options.Create, Options.DefaultName) in every test under ConsensusApi.Tests.Domain.
namespace ConsensusApi.Tests.Domain.Configuration;

/// <summary>The Database, Vacuum, Backup and Limits sections as AddConsensusDomain binds and validates them.</summary>
public class DomainOptionsTests
{
    public static TheoryData<string, string, string> InvalidValues => new()
    {
        { "Database:Path", "", "Database:Path must be set." },
        { "Database:PoolSize", "1", "Database:PoolSize must be between 2 and 256." },
        { "Database:PoolSize", "257", "Database:PoolSize must be between 2 and 256." },
        { "Database:MinIdle", "0", "Database:MinIdle must be between 1 and 256." },
        { "Database:AcquireTimeoutMs", "0", "Database:AcquireTimeoutMs must be between 1 and 600000." },
        { "Database:BusyTimeoutMs", "-1", "Database:BusyTimeoutMs must be between 0 and 600000." },
        { "Database:CommandTimeoutSeconds", "0", "Database:CommandTimeoutSeconds must be between 1 and 600." },
        { "Database:CommandTimeoutSeconds", "601", "Database:CommandTimeoutSeconds must be between 1 and 600." },
        { "Database:MmapSizeBytes", "-1", "Database:MmapSizeBytes must be between 0 and 1099511627776." },
        { "Database:JournalSizeLimitBytes", "-1", "Database:JournalSizeLimitBytes must be between 0 and 1099511627776." },
        { "Database:WalCheckpointThresholdBytes", "0", "Database:WalCheckpointThresholdBytes must be between 1 and 1099511627776." },
        { "Database:MaxWriteBatch", "0", "Database:MaxWriteBatch must be between 1 and 10000." },
        { "Database:WalRestartFrames", "-1", "Database:WalRestartFrames must be between 0 and 1000000." },
        { "Vacuum:Pages", "0", "Vacuum:Pages must be between 1 and 10000000." },
        { "Vacuum:Pages", "10000001", "Vacuum:Pages must be between 1 and 10000000." },
        { "Vacuum:Interval", "00:00:00.500", "Vacuum:Interval must be between 00:00:01 and 365.00:00:00." },
        { "Vacuum:Interval", "366.00:00:00", "Vacuum:Interval must be between 00:00:01 and 365.00:00:00." },
        { "Vacuum:Interval", "-01:00:00", "Vacuum:Interval must be between 00:00:01 and 365.00:00:00." },
        { "Backup:Folder", "", "Backup:Folder must be set." },
        { "Limits:MaxContentBytes", "0", "Limits:MaxContentBytes must be between 1 and 268435456." },
        { "Limits:MaxContentBytes", "268435457", "Limits:MaxContentBytes must be between 1 and 268435456." },
        { "Limits:MaxBatchItems", "0", "Limits:MaxBatchItems must be between 1 and 100000." },
        { "Limits:MaxBatchItems", "100001", "Limits:MaxBatchItems must be between 1 and 100000." },
        { "Limits:RequestTimeoutSeconds", "0", "Limits:RequestTimeoutSeconds must be between 1 and 3600." },
        { "Limits:RequestTimeoutSeconds", "3601", "Limits:RequestTimeoutSeconds must be between 1 and 3600." },
    };

    [Fact]
    public void DatabaseDefaultsMatchTheContract()
    {
        var options = new DatabaseOptions();

        Assert.Equal("Database", DatabaseOptions.SectionName);
        Assert.Equal("data/consensus_artifacts.db", options.Path);
        Assert.Equal(10, options.PoolSize);
        Assert.Equal(2, options.MinIdle);
        Assert.Equal(5000, options.AcquireTimeoutMs);
        Assert.Equal(5000, options.BusyTimeoutMs);
        Assert.Equal(1, options.CommandTimeoutSeconds);
        Assert.Equal(64L << 20, options.MmapSizeBytes);
        Assert.Equal(256L << 20, options.JournalSizeLimitBytes);
        Assert.Equal(256L << 20, options.WalCheckpointThresholdBytes);
        Assert.Equal(32000, options.WalRestartFrames);
        Assert.Equal(256, options.MaxWriteBatch);
    }

    [Fact]
    public void VacuumDefaultsMatchTheContract()
    {
        var options = new VacuumOptions();

        Assert.Equal("Vacuum", VacuumOptions.SectionName);
        Assert.Equal(TimeSpan.FromDays(1), options.Interval);
        Assert.Equal(20, options.Pages);
    }

    [Fact]
    public void BackupDefaultsMatchTheContract()
    {
        Assert.Equal("Backup", BackupOptions.SectionName);
        Assert.Equal("data/backups", new BackupOptions().Folder);
    }

    [Fact]
    public void LimitsDefaultsMatchTheContract()
    {
        var options = new LimitsOptions();

        Assert.Equal("Limits", LimitsOptions.SectionName);
        Assert.Equal(1_048_576, options.MaxContentBytes);
        Assert.Equal(1000, options.MaxBatchItems);
        Assert.Equal(30, options.RequestTimeoutSeconds);
    }

    [Fact]
    public void WithoutSettingsEverySectionResolvesToItsDefaults()
    {
        using var provider = Build([]);

        Assert.Equal(10, provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.PoolSize);
        Assert.Equal(TimeSpan.FromDays(1), provider.GetRequiredService<IOptions<VacuumOptions>>().Value.Interval);
        Assert.Equal("data/backups", provider.GetRequiredService<IOptions<BackupOptions>>().Value.Folder);
        Assert.Equal(1000, provider.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxBatchItems);
        provider.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public void SettingsAreBoundFromTheirSections()
    {
        using var provider = Build(new()
        {
            ["Database:Path"] = "elsewhere/db.sqlite",
            ["Database:PoolSize"] = "4",
            ["Database:MinIdle"] = "4",
            ["Vacuum:Interval"] = "06:30:00",
            ["Vacuum:Pages"] = "500",
            ["Backup:Folder"] = "/var/backups/consensus",
            ["Limits:MaxContentBytes"] = "2048",
            ["Limits:MaxBatchItems"] = "10",
        });

        var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var vacuum = provider.GetRequiredService<IOptions<VacuumOptions>>().Value;
        var limits = provider.GetRequiredService<IOptions<LimitsOptions>>().Value;

        Assert.Equal("elsewhere/db.sqlite", database.Path);
        Assert.Equal((4, 4), (database.PoolSize, database.MinIdle));
        Assert.Equal(new TimeSpan(6, 30, 0), vacuum.Interval);
        Assert.Equal(500, vacuum.Pages);
        Assert.Equal("/var/backups/consensus", provider.GetRequiredService<IOptions<BackupOptions>>().Value.Folder);
        Assert.Equal((2048, 10), (limits.MaxContentBytes, limits.MaxBatchItems));
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void InvalidValueFailsResolutionWithAMessageNamingTheKey(string key, string value, string expected)
    {
        using var provider = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => Resolve(provider, key));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void InvalidValueStopsStartUpValidationWithAMessageNamingTheKey(string key, string value, string expected)
    {
        using var provider = Build(new() { [key] = value });

        var error = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(expected, Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public void MinIdleAbovePoolSizeIsRejectedNamingBothKeys()
    {
        using var provider = Build(new() { ["Database:PoolSize"] = "4", ["Database:MinIdle"] = "5" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DatabaseOptions>>().Value);

        Assert.Equal(["Database:MinIdle must be <= Database:PoolSize."], error.Failures);
    }

    [Fact]
    public void BackgroundCheckpointerNeedsAPoolOfThree()
    {
        using var provider = Build(new() { ["Database:PoolSize"] = "2", ["Database:MinIdle"] = "1" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DatabaseOptions>>().Value);

        Assert.Single(error.Failures);
        Assert.StartsWith("Database:PoolSize must be at least 3 when Database:WalRestartFrames is above 0", error.Failures.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void PoolOfTwoIsAcceptedWithSqlitesAutomaticCheckpoint()
    {
        using var provider = Build(new() { ["Database:PoolSize"] = "2", ["Database:MinIdle"] = "1", ["Database:WalRestartFrames"] = "0" });

        var options = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;

        Assert.Equal((2, 0), (options.PoolSize, options.WalRestartFrames));
    }

    [Fact]
    public void MinIdleEqualToPoolSizeIsAccepted()
    {
        using var provider = Build(new() { ["Database:PoolSize"] = "3", ["Database:MinIdle"] = "3" });

        Assert.Equal(3, provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.MinIdle);
    }

    [Theory]
    [InlineData("00:00:01")]
    [InlineData("365.00:00:00")]
    public void VacuumIntervalAtItsBoundsIsAccepted(string interval)
    {
        using var provider = Build(new() { ["Vacuum:Interval"] = interval });

        Assert.Equal(TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture), provider.GetRequiredService<IOptions<VacuumOptions>>().Value.Interval);
    }

    [Fact]
    public void ValueOfTheWrongTypeNamesTheKey()
    {
        using var provider = Build(new() { ["Database:PoolSize"] = "ten" });

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<DatabaseOptions>>().Value);

        Assert.Contains("Database:PoolSize", error.Message, StringComparison.Ordinal);
    }

    private static object Resolve(ServiceProvider provider, string key) => key.Split(':')[0] switch
    {
        "Database" => provider.GetRequiredService<IOptions<DatabaseOptions>>().Value,
        "Vacuum" => provider.GetRequiredService<IOptions<VacuumOptions>>().Value,
        "Backup" => provider.GetRequiredService<IOptions<BackupOptions>>().Value,
        "Limits" => provider.GetRequiredService<IOptions<LimitsOptions>>().Value,
        var section => throw new ArgumentOutOfRangeException(nameof(key), section, null),
    };

    private static string Flatten(Exception error) => error switch
    {
        AggregateException aggregate => string.Join(" | ", aggregate.InnerExceptions.Select(Flatten)),
        _ => error.Message,
    };

    /// <summary>The Domain registered as the host registers it, on in-memory configuration.</summary>
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddMetrics();
        services.AddConsensusDomain();
        return services.BuildServiceProvider();
    }
}
