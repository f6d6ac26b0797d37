using ConsensusApi.LoadTests;
using ConsensusApi.LoadTests.Reports;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.LoadTests;

/// <summary>Runs after the parallel tests, alone: a load test must not slow the others down, nor they it.</summary>
[CollectionDefinition(nameof(LoadTestSmokeRuns), DisableParallelization = true)]
public sealed class LoadTestSmokeRuns : ICollectionFixture<LoadTestService>;

/// <summary>The service as a real process, shared by the smoke runs.</summary>
public sealed class LoadTestService : IAsyncLifetime
{
    private ServiceProcess? _service;

    /// <summary>The folder of the service's database; the reports go under it too.</summary>
    public string Folder { get; } = TestDatabase.NewFolder();

    /// <summary>The running service.</summary>
    public ServiceProcess Service => _service ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        _service = ServiceProcess.Start(Folder, new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" });
        if (!await _service.WaitUntilReadyAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken))
        {
            throw new InvalidOperationException($"The service did not become ready:\n{_service.Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
    }
}

/// <summary>
/// The load-test tool's smoke mode against the real service: every scenario runs, nothing fails,
/// and the three reports name every scenario. Figures are not asserted; this proves the tool works.
/// </summary>
[Collection(nameof(LoadTestSmokeRuns))]
public sealed class LoadTestSmokeTests(LoadTestService fixture)
{
    [Fact]
    public async Task ClosedModelSmokeRunOfEveryScenarioPassesAndReportsEachOne()
    {
        var options = Options("closed") with
        {
            Models = [LoadModel.Closed],
            VirtualUsers = 20,
            Duration = TimeSpan.FromSeconds(4),
            Warmup = TimeSpan.FromSeconds(1),
        };

        var (exitCode, log) = await RunAsync(options);

        Assert.True(exitCode == LoadTestRunner.Passed, log);
        var report = await ReportWriter.ReadAsync(options.OutputFolder, TestContext.Current.CancellationToken);
        Assert.True(report.Smoke);
        Assert.Equal(Catalog.Names, report.Scenarios.Select(s => s.Name));
        Assert.All(report.Scenarios, s =>
        {
            Assert.Equal("closed", s.Model);
            Assert.True(s.Requests > 0, $"{s.Name} completed no request");
            Assert.Equal(0, s.Errors);
            Assert.Equal(0, s.IntegrityFailures);
            Assert.True(s.IntegrityChecks > 0, $"{s.Name} checked nothing");
            Assert.NotNull(s.ServiceMemory);
            Assert.Contains(s.Series, p => !p.Warmup);
            Assert.All(s.Thresholds, t => Assert.NotEqual(false, t.Passed));
        });
        Assert.All(report.Scenarios.Where(s => s.Name != "ceiling"), s => Assert.NotNull(s.CeilingFraction));
        Assert.True(report.Scenarios.Single(s => s.Name == "workflow").Iterations > 0, "no workflow went through all six stages");
        await AssertReportsNameEveryScenarioAsync(options.OutputFolder, "closed");
    }

    [Fact]
    public async Task OpenModelSmokeRunKeepsItsArrivalRateForEveryScenario()
    {
        var options = Options("open") with
        {
            Models = [LoadModel.Open],
            Rate = 40,
            ScenarioRates = new Dictionary<string, double> { ["workflow"] = 2 },
            Duration = TimeSpan.FromSeconds(2),
            Warmup = TimeSpan.FromSeconds(0.5),
        };

        var (exitCode, log) = await RunAsync(options);

        Assert.True(exitCode == LoadTestRunner.Passed, log);
        var report = await ReportWriter.ReadAsync(options.OutputFolder, TestContext.Current.CancellationToken);
        Assert.Equal(Catalog.Names, report.Scenarios.Select(s => s.Name));
        Assert.All(report.Scenarios, s =>
        {
            Assert.Equal("open", s.Model);
            var expected = s.Rate!.Value * s.DurationSeconds;
            Assert.InRange(s.Iterations, expected * 0.5, expected * 1.5);
            Assert.Equal(0, s.Dropped);
            Assert.Equal(0, s.Errors);
            Assert.Equal(0, s.IntegrityFailures);
        });
        await AssertReportsNameEveryScenarioAsync(options.OutputFolder, "open");
    }

    private LoadTestOptions Options(string name) => new()
    {
        Url = fixture.Service.BaseAddress,
        Scenarios = Catalog.Names,
        Smoke = true,
        SeedCount = 200,
        OutputFolder = Path.Combine(fixture.Folder, "reports-" + name),
        ServicePid = fixture.Service.Id,
        StartupWarmup = TimeSpan.FromSeconds(1),
        RequestTimeout = TimeSpan.FromSeconds(20),
    };

    private async Task<(int ExitCode, string Log)> RunAsync(LoadTestOptions options)
    {
        using var summary = new StringWriter();
        using var progress = new StringWriter();
        var exitCode = await LoadTestRunner.RunAsync(options, summary, progress, TestContext.Current.CancellationToken);
        return (exitCode, $"{summary}\n{progress}\nservice:\n{fixture.Service.Output}");
    }

    private static async Task AssertReportsNameEveryScenarioAsync(string folder, string model)
    {
        var ct = TestContext.Current.CancellationToken;
        var markdown = await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.MarkdownFile), ct);
        var html = await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.HtmlFile), ct);
        var json = await File.ReadAllTextAsync(Path.Combine(folder, ReportWriter.JsonFile), ct);
        Assert.StartsWith("<!doctype html>", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        // Opens offline: nothing to fetch.
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" src=", html, StringComparison.Ordinal);
        foreach (var scenario in Catalog.Names)
        {
            Assert.Contains($"| {scenario} | {model} |", markdown, StringComparison.Ordinal);
            Assert.Contains($"<h3>{scenario} · {model}", html, StringComparison.Ordinal);
            Assert.Contains($"\"name\": \"{scenario}\"", json, StringComparison.Ordinal);
        }
    }
}
