using System.Diagnostics;
using System.Globalization;
using ConsensusApi.LoadTests.Reports;
using HdrHistogram;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>
/// Runs one scenario under one model: prepare, warm up, measure, stop, drain, read back. Every
/// second it takes the latency recorder's interval histogram and the counters, which gives the
/// time series and the progress line; intervals after the warm-up are summed into the figures.
/// </summary>
public sealed class ScenarioRunner(LoadTestOptions options, ApiClient loadClient, ApiClient reader, ServiceMonitor? monitor, ProgressLine progress)
{
    /// <summary>Runs <paramref name="scenario"/> and returns its figures (thresholds not yet applied).</summary>
    public async Task<ScenarioResult> RunAsync(
        Scenario scenario, LoadModel model, string prefix, long baseTimestamp, SeedData? seed, TimeSpan extraWarmup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var stats = new ScenarioStats();
        var client = loadClient.RecordingInto(stats);
        await scenario.InitializeAsync(
            new ScenarioContext { Model = model, Prefix = prefix, BaseTimestamp = baseTimestamp, Reader = reader, Stats = stats, Seed = seed },
            cancellationToken);

        var rate = model == LoadModel.Open ? options.RateFor(scenario.Name, scenario.DefaultRate) : (double?)null;
        using var stopping = new CancellationTokenSource();
        var started = Stopwatch.GetTimestamp();
        var load = model == LoadModel.Closed
            ? LoadSimulation.RunClosedAsync(scenario, stats, client, options.VirtualUsers, stopping.Token, cancellationToken)
            : LoadSimulation.RunOpenAsync(scenario, stats, client, rate!.Value, options.MaxInFlight, stopping.Token, cancellationToken);

        var label = $"{scenario.Name}/{(model == LoadModel.Closed ? "closed" : "open")}";
        Measurement measured;
        try
        {
            measured = await MeasureAsync(label, stats, started, options.Warmup + extraWarmup, cancellationToken);
        }
        finally
        {
            await stopping.CancelAsync();
        }

        // In-flight requests finish (their latencies are outside the window); a hung one is bounded by the request timeout.
        try
        {
            await load.WaitAsync(options.RequestTimeout + TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (TimeoutException)
        {
            stats.RecordError("unfinished");
        }

        progress.Done();
        await scenario.VerifyAsync(cancellationToken);
        var final = stats.Snapshot();
        var histogram = measured.Histogram;
        var seconds = measured.Seconds;
        return new ScenarioResult
        {
            Name = scenario.Name,
            Model = model == LoadModel.Closed ? "closed" : "open",
            Description = scenario.Description,
            VirtualUsers = model == LoadModel.Closed ? options.VirtualUsers : null,
            Rate = rate,
            DurationSeconds = Math.Round(seconds, 3),
            Requests = measured.End.Requests - measured.Start.Requests,
            Iterations = measured.End.Iterations - measured.Start.Iterations,
            Rps = Math.Round((measured.End.Requests - measured.Start.Requests) / seconds, 1),
            Latency = Summarize(histogram),
            ErrorsByStatus = final.Errors.Where(e => e.Value > 0).OrderBy(e => e.Key, StringComparer.Ordinal).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal),
            Errors = final.ErrorCount,
            IntegrityChecks = final.IntegrityChecks,
            IntegrityFailures = final.IntegrityFailures,
            IntegrityMessages = stats.IntegrityMessages,
            Dropped = model == LoadModel.Open ? measured.End.Dropped - measured.Start.Dropped : null,
            Late = model == LoadModel.Open ? measured.End.Late - measured.Start.Late : null,
            ServiceMemory = SummarizeMemory(measured.Series),
            Cpu = measured.Cpu,
            LoadAverage = measured.LoadAverage,
            Thresholds = [],
            Passed = true,
            Series = measured.Series,
        };
    }

    private async Task<Measurement> MeasureAsync(string label, ScenarioStats stats, long started, TimeSpan warmupTime, CancellationToken cancellationToken)
    {
        var warmup = warmupTime.TotalSeconds;
        var total = warmup + options.Duration.TotalSeconds;
        var sum = new LongHistogram(ScenarioStats.HighestMicroseconds, 3);
        var series = new List<TimePoint>();
        HistogramBase? interval = null;
        var previous = stats.Snapshot();
        var previousAt = 0.0;
        var start = warmup == 0 ? previous : null;
        var startAt = 0.0;
        var (selfCpuStart, serviceCpuStart) = warmup == 0 ? ReadCpu() : (0, null);
        foreach (var tick in Ticks(warmup, total))
        {
            var wait = TimeSpan.FromSeconds(tick) - Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            interval = stats.TakeInterval(interval);
            var now = stats.Snapshot();
            var at = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var inWarmup = tick <= warmup && warmup > 0;
            if (!inWarmup)
            {
                sum.Add(interval);
            }

            var length = Math.Max(at - previousAt, 0.001);
            var point = new TimePoint(
                Math.Round(tick, 3),
                inWarmup,
                Math.Round((now.Requests - previous.Requests) / length, 1),
                Milliseconds(interval, 50),
                Milliseconds(interval, 99),
                now.ErrorCount - previous.ErrorCount,
                monitor?.ReadRssMb());
            series.Add(point);
            progress.Show(label, tick, total, inWarmup, point, now);
            if (start is null && tick >= warmup)
            {
                start = now;
                startAt = at;
                (selfCpuStart, serviceCpuStart) = ReadCpu();
            }

            previous = now;
            previousAt = at;
        }

        var (selfCpuEnd, serviceCpuEnd) = ReadCpu();
        var loadAverage = MachineLoad.ReadLoadAverage();
        var seconds = Math.Max(previousAt - startAt, 0.001);
        var cpu = new CpuSummary(
            Math.Round((selfCpuEnd - selfCpuStart) / seconds, 2),
            serviceCpuEnd is { } end && serviceCpuStart is { } begin ? Math.Round((end - begin) / seconds, 2) : null);
        return new Measurement(sum, start ?? previous, previous, seconds, series, cpu, loadAverage);
    }

    private (double Self, double? Service) ReadCpu()
    {
        using var self = Process.GetCurrentProcess();
        return (self.TotalProcessorTime.TotalSeconds, monitor?.ReadCpuSeconds());
    }

    /// <summary>Whole seconds, plus the end of the warm-up and the end of the run where they fall between.</summary>
    private static List<double> Ticks(double warmup, double total)
    {
        var ticks = new List<double>();
        for (var second = 1.0; second < warmup - 0.05; second++)
        {
            ticks.Add(second);
        }

        if (warmup > 0)
        {
            ticks.Add(warmup);
        }

        for (var second = warmup + 1; second < total - 0.05; second++)
        {
            ticks.Add(second);
        }

        ticks.Add(total);
        return ticks;
    }

    private static LatencySummary Summarize(HistogramBase histogram) => histogram.TotalCount == 0
        ? new LatencySummary(0, 0, 0, 0, 0, 0)
        : new LatencySummary(
            Milliseconds(histogram, 50),
            Milliseconds(histogram, 75),
            Milliseconds(histogram, 95),
            Milliseconds(histogram, 99),
            Math.Round(histogram.GetMaxValue() / 1000.0, 3),
            Math.Round(histogram.GetMean() / 1000.0, 3));

    private static double Milliseconds(HistogramBase histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : Math.Round(histogram.GetValueAtPercentile(percentile) / 1000.0, 3);

    /// <summary>Peak over the whole scenario; start, end and growth over the measured seconds.</summary>
    internal static MemorySummary? SummarizeMemory(IReadOnlyList<TimePoint> series)
    {
        var all = series.Where(p => p.RssMb is not null).Select(p => p.RssMb!.Value).ToList();
        var measured = series.Where(p => !p.Warmup && p.RssMb is not null).Select(p => p.RssMb!.Value).ToList();
        if (all.Count == 0 || measured.Count == 0)
        {
            return null;
        }

        return new MemorySummary(measured[0], all.Max(), measured[^1], Growth(measured), all.Count);
    }

    /// <summary>Mean of the last quarter minus mean of the first quarter (last minus first with fewer than 4 samples).</summary>
    internal static double Growth(IReadOnlyList<double> samples)
    {
        if (samples.Count < 4)
        {
            return Math.Round(samples[^1] - samples[0], 1);
        }

        var quarter = samples.Count / 4;
        return Math.Round(samples.Skip(samples.Count - quarter).Average() - samples.Take(quarter).Average(), 1);
    }

    private sealed record Measurement(
        HistogramBase Histogram, StatsSnapshot Start, StatsSnapshot End, double Seconds, List<TimePoint> Series, CpuSummary Cpu, double? LoadAverage);
}
