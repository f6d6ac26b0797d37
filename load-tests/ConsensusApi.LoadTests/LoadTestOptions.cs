using System.Globalization;

namespace ConsensusApi.LoadTests;

/// <summary>How virtual users arrive.</summary>
public enum LoadModel
{
    /// <summary>A fixed number of virtual users, each starting its next iteration when the last one ends.</summary>
    Closed,

    /// <summary>A fixed arrival rate: iterations start on schedule whether or not earlier ones have finished.</summary>
    Open,
}

/// <summary>Settings of one load-test run, from the command line.</summary>
public sealed record LoadTestOptions
{
    /// <summary>Measured seconds per scenario in a smoke run.</summary>
    public static readonly TimeSpan SmokeDuration = TimeSpan.FromSeconds(5);

    /// <summary>Warm-up seconds per scenario in a smoke run.</summary>
    public static readonly TimeSpan SmokeWarmup = TimeSpan.FromSeconds(1);

    /// <summary>The service's base address.</summary>
    public Uri Url { get; init; } = new("http://127.0.0.1:5000");

    /// <summary>Scenarios to run, in this order.</summary>
    public IReadOnlyList<string> Scenarios { get; init; } = Catalog.Names;

    /// <summary>Load models; each scenario runs once per model.</summary>
    public IReadOnlyList<LoadModel> Models { get; init; } = [LoadModel.Closed];

    /// <summary>Concurrent virtual users of the closed model.</summary>
    public int VirtualUsers { get; init; } = 100;

    /// <summary>Arrivals per second of the open model for every scenario; null uses each scenario's default.</summary>
    public double? Rate { get; init; }

    /// <summary>Per-scenario arrival rates of the open model (override <see cref="Rate"/>).</summary>
    public IReadOnlyDictionary<string, double> ScenarioRates { get; init; } = new Dictionary<string, double>();

    /// <summary>Most iterations in flight in the open model; arrivals beyond it are dropped and counted.</summary>
    public int MaxInFlight { get; init; } = 1000;

    /// <summary>Measured time per scenario and model (warm-up excluded).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Warm-up before each measured window; its requests are not in the figures.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Added to the warm-up of the run's first scenario: the service and this tool start cold (JIT
    /// tiering, first connections), and the first scenario, normally the ceiling that every other is
    /// set against, must not pay for it.
    /// </summary>
    public TimeSpan StartupWarmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Folder the reports are written to.</summary>
    public string OutputFolder { get; init; } = Path.Combine("load-tests", "reports", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));

    /// <summary>Sent as <c>X-Api-Key</c> when set (a writer key).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Artifacts seeded for the <c>read</c> and <c>get</c> scenarios.</summary>
    public int SeedCount { get; init; } = 1000;

    /// <summary>Smoke run: short, and only errors and integrity failures fail it.</summary>
    public bool Smoke { get; init; }

    /// <summary>Thresholds given on the command line; they replace the defaults for the same scenario and metric.</summary>
    public IReadOnlyList<ThresholdRule> Thresholds { get; init; } = [];

    /// <summary>The service's process id: its memory and CPU are sampled every second when set.</summary>
    public int? ServicePid { get; init; }

    /// <summary>Longest wait for one response.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for <c>/health/ready</c> before starting; zero does not wait.</summary>
    public TimeSpan WaitReady { get; init; } = TimeSpan.Zero;

    /// <summary>Free text naming the run in the reports (a commit, a machine).</summary>
    public string? Label { get; init; }

    /// <summary>The arrival rate of the open model for a scenario.</summary>
    public double RateFor(string scenario, double scenarioDefault) =>
        ScenarioRates.TryGetValue(scenario, out var rate) ? rate : Rate ?? scenarioDefault;
}
