using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>
/// What one scenario run records, written by many virtual users at once. Latencies go into an
/// HdrHistogram recorder (microseconds, 3 significant digits) whose interval histograms the
/// runner takes every second; counters only grow, so a phase's figures are differences of snapshots.
/// </summary>
public sealed class ScenarioStats
{
    /// <summary>Largest latency kept apart from the others (two minutes); longer ones are recorded as this.</summary>
    public const long HighestMicroseconds = 120_000_000;

    private const int MessagesKept = 10;

    private readonly Recorder _latency = HistogramFactory.With64BitBucketSize()
        .WithValuesFrom(1)
        .WithValuesUpTo(HighestMicroseconds)
        .WithPrecisionOf(3)
        .WithThreadSafeWrites()
        .WithThreadSafeReads()
        .Create();

    private readonly ConcurrentDictionary<string, Counter> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _messages = new();
    private long _succeeded;
    private long _iterations;
    private long _dropped;
    private long _late;
    private long _integrityChecks;
    private long _integrityFailures;

    /// <summary>A successful response, timed from <see cref="Stopwatch.GetTimestamp"/> values.</summary>
    public void RecordSuccess(long startTimestamp, long endTimestamp)
    {
        var micros = (endTimestamp - startTimestamp) * 1_000_000 / Stopwatch.Frequency;
        _latency.RecordValue(Math.Clamp(micros, 1, HighestMicroseconds));
        Interlocked.Increment(ref _succeeded);
    }

    /// <summary>A failed request: an unexpected status code, or a kind such as <c>timeout</c>.</summary>
    public void RecordError(string kind) => Interlocked.Increment(ref _errors.GetOrAdd(kind, _ => new Counter()).Value);

    /// <summary>An iteration of the scenario ended.</summary>
    public void RecordIteration() => Interlocked.Increment(ref _iterations);

    /// <summary>Open model: an arrival was not started because too many were in flight.</summary>
    public void RecordDropped() => Interlocked.Increment(ref _dropped);

    /// <summary>Open model: an arrival started late.</summary>
    public void RecordLate() => Interlocked.Increment(ref _late);

    /// <summary>An integrity check: what came back was (or was not) what was sent.</summary>
    public void RecordIntegrity(bool passed, string? message = null)
    {
        Interlocked.Increment(ref _integrityChecks);
        if (passed)
        {
            return;
        }

        Interlocked.Increment(ref _integrityFailures);
        if (_messages.Count < MessagesKept)
        {
            _messages.Enqueue(message ?? "integrity check failed");
        }
    }

    /// <summary>Latencies recorded since the previous call (the recycled histogram is reused).</summary>
    public HistogramBase TakeInterval(HistogramBase? recycle) => _latency.GetIntervalHistogram(recycle);

    /// <summary>The counters now.</summary>
    public StatsSnapshot Snapshot() => new(
        Interlocked.Read(ref _succeeded),
        _errors.ToDictionary(e => e.Key, e => Interlocked.Read(ref e.Value.Value), StringComparer.Ordinal),
        Interlocked.Read(ref _iterations),
        Interlocked.Read(ref _dropped),
        Interlocked.Read(ref _late),
        Interlocked.Read(ref _integrityChecks),
        Interlocked.Read(ref _integrityFailures));

    /// <summary>The first integrity failures, described.</summary>
    public IReadOnlyList<string> IntegrityMessages => [.. _messages];

    private sealed class Counter
    {
        public long Value;
    }
}

/// <summary>Counters at one moment.</summary>
public sealed record StatsSnapshot(
    long Succeeded, IReadOnlyDictionary<string, long> Errors, long Iterations, long Dropped, long Late, long IntegrityChecks, long IntegrityFailures)
{
    /// <summary>All failed requests.</summary>
    public long ErrorCount => Errors.Values.Sum();

    /// <summary>Succeeded and failed requests.</summary>
    public long Requests => Succeeded + ErrorCount;
}
