using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using ConsensusApi.LoadTests.Engine;
using ConsensusApi.LoadTests.Reports;

namespace ConsensusApi.LoadTests;

/// <summary>Runs the chosen scenarios against a running service and writes the reports.</summary>
public static class LoadTestRunner
{
    /// <summary>Every scenario met its thresholds.</summary>
    public const int Passed = 0;

    /// <summary>A threshold failed, or there were errors or integrity failures.</summary>
    public const int Failed = 1;

    /// <summary>The command line could not be understood.</summary>
    public const int Usage = 2;

    /// <summary>The load could not be applied: the service did not answer, or seeding failed.</summary>
    public const int CouldNotRun = 3;

    /// <summary>Runs with progress on standard error and the summary on standard output.</summary>
    public static Task<int> RunAsync(LoadTestOptions options, CancellationToken cancellationToken = default) =>
        RunAsync(options, Console.Out, Console.Error, cancellationToken);

    /// <summary>Runs, writing the summary to <paramref name="output"/> and the progress line to <paramref name="progress"/>.</summary>
    public static async Task<int> RunAsync(LoadTestOptions options, TextWriter output, TextWriter progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(progress);
        try
        {
            Directory.CreateDirectory(options.OutputFolder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await progress.WriteLineAsync($"The report folder '{options.OutputFolder}' cannot be created: {ex.Message}");
            return CouldNotRun;
        }

        using var loadHandler = CreateHandler(Math.Max(options.VirtualUsers, options.MaxInFlight));
        using var loadHttp = CreateClient(loadHandler, options);
        using var setupHandler = CreateHandler(4);
        using var setupHttp = CreateClient(setupHandler, options);
        var reader = new ApiClient(setupHttp, null);

        if (!await IsReadyAsync(setupHttp, options.WaitReady, cancellationToken))
        {
            await progress.WriteLineAsync($"The service at {options.Url} is not ready (GET /health/ready).");
            return CouldNotRun;
        }

        var startedAt = DateTimeOffset.UtcNow;
        var tag = RunTag();
        var baseTimestamp = startedAt.ToUnixTimeMilliseconds();
        SeedData? seed = null;
        if (options.Scenarios.Any(Catalog.Seeded.Contains))
        {
            try
            {
                seed = await Seeder.SeedAsync(reader, tag, baseTimestamp, options.SeedCount, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
            {
                await progress.WriteLineAsync(ex.Message);
                return CouldNotRun;
            }

            await WriteSeedFilesAsync(options.OutputFolder, seed, cancellationToken);
            await progress.WriteLineAsync($"Seeded {seed.Ids.Count} artifacts into {seed.SpecId}/{seed.Stage} (ids {seed.Ids[0]}-{seed.Ids[^1]}).");
        }

        var monitor = options.ServicePid is { } pid ? new ServiceMonitor(pid) : null;
        var runner = new ScenarioRunner(options, new ApiClient(loadHttp, null), reader, monitor, new ProgressLine(progress, progress == Console.Error && !Console.IsErrorRedirected));
        var results = new List<ScenarioResult>();
        foreach (var model in options.Models)
        {
            foreach (var name in options.Scenarios)
            {
                var prefix = $"{tag}{(model == LoadModel.Closed ? 'c' : 'o')}";
                ScenarioResult result;
                try
                {
                    var extraWarmup = results.Count == 0 ? options.StartupWarmup : TimeSpan.Zero;
                    result = await runner.RunAsync(Catalog.Create(name), model, prefix, baseTimestamp, seed, extraWarmup, cancellationToken);
                }
                catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or System.Text.Json.JsonException)
                {
                    // A scenario's set-up failed (its read of the seeded page, say): nothing to measure.
                    await progress.WriteLineAsync($"{name}: {ex.Message}");
                    return CouldNotRun;
                }

                results.Add(result);
                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{result.Name}/{result.Model}: {result.Requests} requests, {result.Rps:0.0} rps, p50 {result.Latency.P50:0.###} ms, p99 {result.Latency.P99:0.###} ms, errors {result.Errors}, integrity failures {result.IntegrityFailures}/{result.IntegrityChecks}"));
            }
        }

        var report = new LoadTestReport
        {
            StartedAt = startedAt,
            FinishedAt = DateTimeOffset.UtcNow,
            Url = options.Url.ToString(),
            Smoke = options.Smoke,
            Label = options.Label,
            WarmupSeconds = options.Warmup.TotalSeconds,
            StartupWarmupSeconds = options.StartupWarmup.TotalSeconds,
            DurationSeconds = options.Duration.TotalSeconds,
            Machine = new MachineInfo(Environment.MachineName, Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription),
            Seed = seed is null ? null : new SeedInfo(seed.SpecId, seed.Stage, seed.Ids.Count, seed.Ids[0], seed.Ids[^1]),
            Scenarios = Thresholds.Apply(results, options),
            Passed = true,
        };
        report = report with { Passed = report.Scenarios.All(s => s.Passed) };
        var files = await ReportWriter.WriteAsync(report, options.OutputFolder, cancellationToken);
        await output.WriteLineAsync(report.Passed ? "PASSED" : $"FAILED: {string.Join("; ", Thresholds.Failures(report))}");
        await output.WriteLineAsync($"Reports: {string.Join(", ", files)}");
        return report.Passed ? Passed : Failed;
    }

    private static SocketsHttpHandler CreateHandler(int connections) => new()
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    };

    private static HttpClient CreateClient(SocketsHttpHandler handler, LoadTestOptions options)
    {
        var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = options.Url, Timeout = options.RequestTimeout };
        if (options.ApiKey is { } key)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        return client;
    }

    /// <summary>True once /health/ready answers 200; tries once when <paramref name="wait"/> is zero.</summary>
    private static async Task<bool> IsReadyAsync(HttpClient http, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Six characters that keep this run's spec ids and agent names apart from any other run's.</summary>
    private static string RunTag() => string.Create(6, Random.Shared, static (span, random) =>
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = alphabet[random.Next(alphabet.Length)];
        }
    });

    /// <summary>seed.env for run.sh (wrk loads the same ids).</summary>
    private static Task WriteSeedFilesAsync(string folder, SeedData seed, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(
            Path.Combine(folder, "seed.env"),
            string.Create(CultureInfo.InvariantCulture, $"SEED_SPEC_ID={seed.SpecId}\nSEED_STAGE={seed.Stage}\nSEED_FIRST_ID={seed.Ids.Min()}\nSEED_LAST_ID={seed.Ids.Max()}\nSEED_COUNT={seed.Ids.Count}\n"),
            cancellationToken);
}
