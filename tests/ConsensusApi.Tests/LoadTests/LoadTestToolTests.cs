using ConsensusApi.LoadTests;
using ConsensusApi.LoadTests.Reports;

namespace ConsensusApi.Tests.LoadTests;

/// <summary>The load-test tool's command line, thresholds, wrk parsing and cross-check, without a service.</summary>
public class LoadTestToolTests
{
    private const string WrkOutputText = """
        Running 5s test @ http://127.0.0.1:40000/api/v1/artifacts/1
          2 threads and 100 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency     6.65ms   17.97ms 171.19ms   95.51%
            Req/Sec     3.37k   512.00     4.10k    70.00%
          Latency Distribution
             50%    4.59ms
             75%    9.50ms
             90%   30.10ms
             99%  128.00ms
          80112 requests in 5.14s, 30.28MB read
          Non-2xx or 3xx responses: 3
          Socket errors: connect 0, read 1, write 0, timeout 2
        Requests/sec:  15598.33
        Transfer/sec:      5.89MB
        WRK-RESULT {"requests":80112,"durationUs":5140000,"bytes":31750000,"non2xx":3,"connect":0,"read":1,"write":0,"timeout":2,"p50":4590,"p75":9500,"p90":30100,"p95":71500,"p99":128000,"max":171190,"mean":6650.0}
        """;

    [Fact]
    public async Task ReportFolderThatIsAFileStopsTheRunWithAMessageNamingIt()
    {
        var file = Path.GetTempFileName();
        try
        {
            using var summary = new StringWriter();
            using var progress = new StringWriter();
            var options = new LoadTestOptions { Url = new Uri("http://127.0.0.1:9"), OutputFolder = file };

            var exitCode = await LoadTestRunner.RunAsync(options, summary, progress, TestContext.Current.CancellationToken);

            Assert.Equal(LoadTestRunner.CouldNotRun, exitCode);
            Assert.Contains($"The report folder '{file}' cannot be created", progress.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void CommandLineReadsEveryOption()
    {
        var (command, options) = CommandLine.Parse([
            "run", "--url", "http://127.0.0.1:8080", "--scenarios", "write,get", "--model", "both", "--vus", "50",
            "--rate", "write=800,get=1500", "--duration", "2m", "--warmup", "500ms", "--out", "out", "--api-key", "k",
            "--seed", "300", "--threshold", "write:p99<25ms,rps>8000", "--service-pid", "42", "--label", "x"]);

        Assert.Equal(Command.Run, command);
        Assert.Equal(new Uri("http://127.0.0.1:8080"), options.Url);
        Assert.Equal(["write", "get"], options.Scenarios);
        Assert.Equal([LoadModel.Closed, LoadModel.Open], options.Models);
        Assert.Equal(50, options.VirtualUsers);
        Assert.Equal(800, options.RateFor("write", 1));
        Assert.Equal(7, options.RateFor("mixed", 7));
        Assert.Equal(TimeSpan.FromMinutes(2), options.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Warmup);
        Assert.Equal("k", options.ApiKey);
        Assert.Equal(300, options.SeedCount);
        Assert.Equal(2, options.Thresholds.Count);
        Assert.Equal(42, options.ServicePid);
    }

    [Fact]
    public void SmokeRunsFiveSecondsAfterOneSecondOfWarmUp()
    {
        var (_, options) = CommandLine.Parse(["--smoke"]);

        Assert.True(options.Smoke);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Duration);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Warmup);
        Assert.Equal(Catalog.Names, options.Scenarios);
    }

    [Theory]
    [InlineData("--scenarios", "write,nope", "nope")]
    [InlineData("--model", "sideways", "--model")]
    [InlineData("--vus", "0", "--vus")]
    [InlineData("--duration", "soon", "--duration")]
    [InlineData("--threshold", "write:p99<<3", "p99<<3")]
    [InlineData("--threshold", "write:speed<3", "speed")]
    [InlineData("--threshold", "nope:p99<3ms", "nope")]
    [InlineData("--seed", "0", "--seed")]
    public void CommandLineNamesTheBadArgument(string name, string value, string named)
    {
        var error = Assert.Throws<CommandLineException>(() => CommandLine.Parse([name, value]));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThresholdsCompareInTheirUnits()
    {
        var rules = ThresholdRule.ParseList("get@open:p99<2s,p50<=900us,rps>1000,ceiling>=50%,rss<0.5GB");
        var result = Result("get", "open") with { Rps = 1200, Latency = new LatencySummary(0.9, 1, 1, 1500, 2000, 1), CeilingFraction = 0.4 };

        Assert.All(rules, r => Assert.True(r.AppliesTo("get", LoadModel.Open)));
        Assert.False(rules[0].AppliesTo("get", LoadModel.Closed));
        Assert.Equal([true, true, true, false, null], rules.Select(r => r.Evaluate(result).Passed));
        Assert.Equal("not measured in this run", rules[4].Evaluate(result).Note);
    }

    [Fact]
    public void ErrorsAndIntegrityFailuresFailEvenASmokeRunWhileOtherThresholdsAreNotEnforced()
    {
        var options = new LoadTestOptions { Smoke = true, Thresholds = ThresholdRule.ParseList("write:p99<1ms") };
        var results = Thresholds.Apply(
            [Result("write", "closed") with { Latency = new LatencySummary(1, 1, 1, 50, 60, 1) }, Result("get", "closed") with { Errors = 1 }],
            options);

        Assert.True(results[0].Passed);
        Assert.Contains(results[0].Thresholds, t => t.Rule == "write:p99<1ms" && t.Passed is null);
        Assert.False(results[1].Passed);
    }

    [Fact]
    public void AThresholdGivenReplacesTheDefaultOfItsMetricAndTheCeilingFractionIsSet()
    {
        var options = new LoadTestOptions { Thresholds = ThresholdRule.ParseList("write:p99<500ms") };
        var results = Thresholds.Apply(
            [Result("ceiling", "closed") with { Rps = 1000 }, Result("write", "closed") with { Rps = 250, Latency = new LatencySummary(1, 1, 1, 300, 400, 1) }],
            options);

        Assert.True(results[1].Passed);
        Assert.DoesNotContain(results[1].Thresholds, t => t.Rule == "write:p99<100ms");
        Assert.Equal(0.25, results[1].CeilingFraction);
    }

    [Fact]
    public void WrkOutputIsParsedFromTheTextAndTheLuaSummary()
    {
        var result = WrkOutput.Parse("get", WrkOutputText);

        Assert.NotNull(result);
        Assert.Equal(80112, result.Requests);
        Assert.Equal(15598.3, result.Rps);
        Assert.Equal(100, result.Connections);
        Assert.Equal(3, result.Non2xx);
        Assert.Equal(3, result.SocketErrors);
        Assert.Equal(new LatencySummary(4.59, 9.5, 71.5, 128, 171.19, 6.65), result.Latency);
    }

    [Fact]
    public void WrkTextAloneGivesThePercentilesOfItsTable()
    {
        var text = string.Join('\n', WrkOutputText.Split('\n').Where(line => !line.StartsWith(WrkOutput.ResultPrefix, StringComparison.Ordinal)));

        var result = WrkOutput.Parse("get", text);

        Assert.NotNull(result);
        Assert.Equal(new LatencySummary(4.59, 9.5, 0, 128, 171.19, 6.65), result.Latency);
        Assert.Null(WrkOutput.Parse("get", "unable to connect to 127.0.0.1:1 Connection refused"));
    }

    [Fact]
    public void CrossCheckAcceptsTwentyFivePercentAndExplainsMore()
    {
        var report = new LoadTestReport
        {
            StartedAt = DateTimeOffset.UnixEpoch,
            FinishedAt = DateTimeOffset.UnixEpoch,
            Url = "http://127.0.0.1:1/",
            Smoke = false,
            WarmupSeconds = 5,
            DurationSeconds = 30,
            Machine = new MachineInfo("m", 2, "linux", ".NET"),
            Scenarios = [Result("get", "closed") with { Rps = 800, Cpu = new CpuSummary(0.6, 1.2) }, Result("ceiling", "closed") with { Rps = 1000 }],
            Passed = true,
        };
        var wrk = new[] { Wrk("get", 1000), Wrk("ceiling", 2000) };

        var checks = CrossCheckReport.Compare(report, wrk);

        var get = checks.Single(c => c.Scenario == "get");
        Assert.True(get.WithinTolerance);
        Assert.Null(get.Explanation);
        var ceiling = checks.Single(c => c.Scenario == "ceiling");
        Assert.False(ceiling.WithinTolerance);
        Assert.Equal(-0.5, ceiling.RpsDifference);
        Assert.Contains("2 cores", ceiling.Explanation, StringComparison.Ordinal);
    }

    private static ScenarioResult Result(string name, string model) => new()
    {
        Name = name,
        Model = model,
        Description = name,
        DurationSeconds = 1,
        Requests = 1,
        Iterations = 1,
        Rps = 1,
        Latency = new LatencySummary(1, 1, 1, 1, 1, 1),
        ErrorsByStatus = new Dictionary<string, long>(),
        Errors = 0,
        IntegrityChecks = 1,
        IntegrityFailures = 0,
        IntegrityMessages = [],
        Cpu = new CpuSummary(0.5, null),
        Thresholds = [],
        Passed = true,
        Series = [],
    };

    private static WrkResult Wrk(string scenario, double rps) => new()
    {
        Scenario = scenario,
        Connections = 100,
        Requests = (long)(rps * 30),
        DurationSeconds = 30,
        Rps = rps,
        Latency = new LatencySummary(1, 1, 1, 1, 1, 1),
        Non2xx = 0,
        SocketErrors = 0,
        LoadGeneratorCpu = 0.2,
    };
}
