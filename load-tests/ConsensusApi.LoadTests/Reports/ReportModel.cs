using System.Text.Json.Serialization;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>Everything a run measured: written as report.json and rendered as Markdown and HTML.</summary>
public sealed record LoadTestReport
{
    /// <summary>Format version of this document.</summary>
    public int Version { get; init; } = 1;

    /// <summary>When the first scenario started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When the last scenario ended.</summary>
    public required DateTimeOffset FinishedAt { get; init; }

    /// <summary>The service's base address.</summary>
    public required string Url { get; init; }

    /// <summary>A smoke run: only errors and integrity failures count.</summary>
    public required bool Smoke { get; init; }

    /// <summary>The run's label, if one was given.</summary>
    public string? Label { get; init; }

    /// <summary>Seconds of warm-up before each measured window.</summary>
    public required double WarmupSeconds { get; init; }

    /// <summary>Seconds added to the first scenario's warm-up, as both processes start cold.</summary>
    public double StartupWarmupSeconds { get; init; }

    /// <summary>Measured seconds per scenario.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>The machine and runtime the load came from.</summary>
    public required MachineInfo Machine { get; init; }

    /// <summary>Artifacts seeded for read and get, when they were.</summary>
    public SeedInfo? Seed { get; init; }

    /// <summary>One entry per scenario and model, in run order.</summary>
    public required IReadOnlyList<ScenarioResult> Scenarios { get; init; }

    /// <summary>The same endpoints loaded by wrk, when run.sh ran it.</summary>
    public IReadOnlyList<WrkResult>? Wrk { get; init; }

    /// <summary>This tool's figures beside wrk's.</summary>
    public IReadOnlyList<CrossCheck>? CrossChecks { get; init; }

    /// <summary>The service's resident memory over the whole run (run.sh's record), when there is one.</summary>
    public MemorySummary? WholeRunMemory { get; init; }

    /// <summary>True when every scenario met its thresholds.</summary>
    public required bool Passed { get; init; }
}

/// <summary>Where the load came from.</summary>
public sealed record MachineInfo(string Host, int Cores, string Os, string Runtime);

/// <summary>The seeded artifacts of the read and get scenarios.</summary>
public sealed record SeedInfo(string SpecId, string Stage, int Count, long FirstId, long LastId);

/// <summary>One scenario under one load model.</summary>
public sealed record ScenarioResult
{
    /// <summary>Scenario name.</summary>
    public required string Name { get; init; }

    /// <summary>closed or open.</summary>
    public required string Model { get; init; }

    /// <summary>What one iteration does.</summary>
    public required string Description { get; init; }

    /// <summary>Concurrent virtual users (closed model).</summary>
    public int? VirtualUsers { get; init; }

    /// <summary>Arrivals per second (open model).</summary>
    public double? Rate { get; init; }

    /// <summary>Length of the measured window in seconds.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>HTTP requests completed in the measured window.</summary>
    public required long Requests { get; init; }

    /// <summary>Iterations completed in the measured window (a workflow iteration is many requests).</summary>
    public required long Iterations { get; init; }

    /// <summary>Requests per second in the measured window.</summary>
    public required double Rps { get; init; }

    /// <summary>rps divided by the ceiling scenario's rps in the same model, when the ceiling ran.</summary>
    public double? CeilingFraction { get; init; }

    /// <summary>Latency of successful requests in the measured window, in milliseconds.</summary>
    public required LatencySummary Latency { get; init; }

    /// <summary>Failed requests (warm-up and drain included), by status code or failure kind.</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByStatus { get; init; }

    /// <summary>Sum of <see cref="ErrorsByStatus"/>.</summary>
    public required long Errors { get; init; }

    /// <summary>Integrity checks made (responses and read-backs compared with what was sent).</summary>
    public required long IntegrityChecks { get; init; }

    /// <summary>Integrity checks that failed.</summary>
    public required long IntegrityFailures { get; init; }

    /// <summary>The first few integrity failures, described.</summary>
    public required IReadOnlyList<string> IntegrityMessages { get; init; }

    /// <summary>Open model: arrivals not started because too many were in flight.</summary>
    public long? Dropped { get; init; }

    /// <summary>Open model: arrivals started 10 ms or more after their scheduled time.</summary>
    public long? Late { get; init; }

    /// <summary>The service's resident memory during the scenario, when its process id was given.</summary>
    public MemorySummary? ServiceMemory { get; init; }

    /// <summary>CPU used in the measured window, in cores (1.0 = one core busy).</summary>
    public required CpuSummary Cpu { get; init; }

    /// <summary>The machine's 1-minute load average at the end of the measured window (other work shows here).</summary>
    public double? LoadAverage { get; init; }

    /// <summary>Each threshold and its outcome.</summary>
    public required IReadOnlyList<ThresholdOutcome> Thresholds { get; init; }

    /// <summary>True when every enforced threshold passed.</summary>
    public required bool Passed { get; init; }

    /// <summary>One point per second, warm-up included.</summary>
    public required IReadOnlyList<TimePoint> Series { get; init; }
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record LatencySummary(double P50, double P75, double P95, double P99, double Max, double Mean);

/// <summary>Resident memory (VmRSS) of the service in MB.</summary>
/// <param name="StartMb">At the start of the measured window.</param>
/// <param name="PeakMb">Highest sample.</param>
/// <param name="EndMb">At the end of the measured window.</param>
/// <param name="GrowthMb">Mean of the last quarter of the measured samples minus the mean of the first quarter.</param>
/// <param name="Samples">How many samples.</param>
public sealed record MemorySummary(double StartMb, double PeakMb, double EndMb, double GrowthMb, int Samples);

/// <summary>CPU in cores over the measured window.</summary>
/// <param name="LoadGenerator">This process (the load test).</param>
/// <param name="Service">The service, when its process id was given.</param>
public sealed record CpuSummary(double LoadGenerator, double? Service);

/// <summary>A threshold and how it came out; <c>Passed</c> is null when it was not measured or not enforced.</summary>
public sealed record ThresholdOutcome(string Rule, double? Actual, bool? Passed, string? Note);

/// <summary>One second of a scenario.</summary>
/// <param name="Second">Seconds since the scenario started (end of the interval).</param>
/// <param name="Warmup">True while warming up.</param>
/// <param name="Rps">Requests completed per second in the interval.</param>
/// <param name="P50">Median latency in ms.</param>
/// <param name="P99">99th percentile latency in ms.</param>
/// <param name="Errors">Failed requests in the interval.</param>
/// <param name="RssMb">Service memory at the end of the interval.</param>
public sealed record TimePoint(double Second, bool Warmup, double Rps, double P50, double P99, long Errors, double? RssMb);

/// <summary>One wrk run as parsed from its output.</summary>
public sealed record WrkResult
{
    /// <summary>The scenario whose endpoint it loaded.</summary>
    public required string Scenario { get; init; }

    /// <summary>The command line used.</summary>
    public string? Command { get; init; }

    /// <summary>Connections (wrk -c).</summary>
    public int? Connections { get; init; }

    /// <summary>Requests completed.</summary>
    public required long Requests { get; init; }

    /// <summary>Seconds it ran.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>Requests per second.</summary>
    public required double Rps { get; init; }

    /// <summary>Latency in ms (p95 and max from the Lua summary; the rest also in wrk's --latency table).</summary>
    public required LatencySummary Latency { get; init; }

    /// <summary>Responses that were not 2xx or 3xx.</summary>
    public required long Non2xx { get; init; }

    /// <summary>Connect, read, write and timeout errors.</summary>
    public required long SocketErrors { get; init; }

    /// <summary>wrk's rps divided by wrk's ceiling rps.</summary>
    public double? CeilingFraction { get; init; }

    /// <summary>wrk's own CPU in cores, from its user and system time.</summary>
    public double? LoadGeneratorCpu { get; init; }

    /// <summary>The machine's 1-minute load average when wrk finished.</summary>
    public double? LoadAverage { get; init; }

    /// <summary>The service's CPU in cores while wrk ran.</summary>
    public double? ServiceCpu { get; init; }

    /// <summary>Service memory while wrk ran, from run.sh's record.</summary>
    public MemorySummary? ServiceMemory { get; init; }
}

/// <summary>This tool and wrk on the same endpoint.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="ToolRps">This tool's rps (closed model).</param>
/// <param name="WrkRps">wrk's rps.</param>
/// <param name="RpsDifference">(tool - wrk) / wrk.</param>
/// <param name="ToolP50">This tool's median (ms).</param>
/// <param name="WrkP50">wrk's median (ms).</param>
/// <param name="ToolP99">This tool's p99 (ms).</param>
/// <param name="WrkP99">wrk's p99 (ms).</param>
/// <param name="WithinTolerance">True when the rps agree within 25%.</param>
/// <param name="Explanation">Why they differ, when they do.</param>
public sealed record CrossCheck(
    string Scenario, double ToolRps, double WrkRps, double RpsDifference, double ToolP50, double WrkP50, double ToolP99, double WrkP99, bool WithinTolerance, string? Explanation);

/// <summary>Serialization of the report.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LoadTestReport))]
public sealed partial class ReportJsonContext : JsonSerializerContext;
