using ConsensusApi.Domain.Telemetry;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Resilience;

/// <summary>How an operation run through the retry pipeline ended.</summary>
public enum RetryOutcome
{
    /// <summary>It succeeded, on the first try or after retries.</summary>
    Succeeded,

    /// <summary>It failed with an error that is not retried (permanent, or cancelled by the caller).</summary>
    Failed,

    /// <summary>It still failed with a retryable error when the attempts or the time budget ran out.</summary>
    Exhausted,
}

/// <summary>A point-in-time view of <see cref="RetryTelemetry"/>.</summary>
/// <param name="Operations">Operations completed since start.</param>
/// <param name="RetriedOperations">Operations that needed at least one retry.</param>
/// <param name="Attempts">Retry attempts made (first tries are not counted).</param>
/// <param name="Recovered">Operations that succeeded after at least one retry.</param>
/// <param name="Exhausted">Operations that failed with a retryable error after every allowed retry.</param>
/// <param name="WindowOperations">Operations completed within the recent window.</param>
/// <param name="WindowRetriedOperations">Operations within the recent window that needed a retry.</param>
/// <param name="RetryRate">
/// <paramref name="WindowRetriedOperations"/> / <paramref name="WindowOperations"/>; 0 with no operations.
/// </param>
/// <param name="Alert">
/// <see langword="true"/> while <paramref name="RetryRate"/> exceeds <see cref="RetryTelemetry.AlertThreshold"/>
/// with at least <see cref="RetryTelemetry.AlertMinimumOperations"/> operations in the window.
/// </param>
public sealed record RetryTelemetrySnapshot(
    long Operations,
    long RetriedOperations,
    long Attempts,
    long Recovered,
    long Exhausted,
    long WindowOperations,
    long WindowRetriedOperations,
    double RetryRate,
    bool Alert);

/// <summary>
/// Counts retried operations and watches the retry rate over a recent window, logging one
/// warning when the rate goes above <see cref="AlertThreshold"/> (and one notice when it is back).
/// Also feeds the retry counters of <see cref="ConsensusMetrics"/>. Thread-safe; register as a singleton.
/// </summary>
public sealed class RetryTelemetry
{
    /// <summary>The retry rate above which <see cref="RetryTelemetrySnapshot.Alert"/> is raised: 20%.</summary>
    public const double AlertThreshold = 0.2;

    /// <summary>Fewer operations than this in the window never raise the alert.</summary>
    public const int AlertMinimumOperations = 10;

    private const int BucketCount = 30;

    private readonly ConsensusMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RetryTelemetry> _logger;
    private readonly long _origin;
    private readonly Lock _gate = new();
    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private long _operations;
    private long _retriedOperations;
    private long _attempts;
    private long _recovered;
    private long _exhausted;
    private bool _alert;

    /// <summary>Creates the telemetry.</summary>
    /// <param name="metrics">The service's meter, whose retry counters this feeds.</param>
    /// <param name="timeProvider">The clock of the recent window.</param>
    /// <param name="logger">Where the retry-rate warning goes.</param>
    public RetryTelemetry(ConsensusMetrics metrics, TimeProvider timeProvider, ILogger<RetryTelemetry> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
        _origin = timeProvider.GetTimestamp();
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i].Index = long.MinValue;
        }
    }

    /// <summary>The recent window the retry rate is computed over: 5 minutes.</summary>
    public static TimeSpan Window { get; } = TimeSpan.FromMinutes(5);

    /// <summary>Granularity of the window: operations older than the window are forgotten 10 seconds at a time.</summary>
    public static TimeSpan BucketWidth { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Records one retry attempt (called before the retry's delay).</summary>
    /// <param name="operation">The operation's name, used as the metric tag.</param>
    public void RecordRetry(string operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        Interlocked.Increment(ref _attempts);
        _metrics.RetryAttempt(operation);
    }

    /// <summary>Records a finished operation.</summary>
    /// <param name="operation">The operation's name, used as the metric tag.</param>
    /// <param name="retries">How many retries it made (0 when the first try decided it).</param>
    /// <param name="outcome">How it ended.</param>
    public void RecordOperation(string operation, int retries, RetryOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        var retried = retries > 0;
        if (retried)
        {
            _metrics.RetriedOperation(operation);
            if (outcome == RetryOutcome.Succeeded)
            {
                _metrics.RetryRecovered(operation);
            }
        }

        if (outcome == RetryOutcome.Exhausted)
        {
            _metrics.RetryExhausted(operation);
        }

        WindowState state;
        AlertChange change;
        lock (_gate)
        {
            _operations++;
            if (retried)
            {
                _retriedOperations++;
                if (outcome == RetryOutcome.Succeeded)
                {
                    _recovered++;
                }
            }

            if (outcome == RetryOutcome.Exhausted)
            {
                _exhausted++;
            }

            var index = CurrentBucketIndex();
            ref var bucket = ref _buckets[(int)(index % BucketCount)];
            if (bucket.Index != index)
            {
                bucket = new Bucket { Index = index };
            }

            bucket.Operations++;
            if (retried)
            {
                bucket.Retried++;
            }

            state = SumWindow(index);
            change = UpdateAlert(state);
        }

        LogAlertChange(change, state);
    }

    /// <summary>Returns the counters, the recent retry rate and the alert flag.</summary>
    /// <returns>A consistent snapshot.</returns>
    public RetryTelemetrySnapshot Snapshot()
    {
        RetryTelemetrySnapshot snapshot;
        WindowState state;
        AlertChange change;
        lock (_gate)
        {
            state = SumWindow(CurrentBucketIndex());
            change = UpdateAlert(state);
            snapshot = new RetryTelemetrySnapshot(
                _operations,
                _retriedOperations,
                Interlocked.Read(ref _attempts),
                _recovered,
                _exhausted,
                state.Operations,
                state.Retried,
                state.Rate,
                _alert);
        }

        LogAlertChange(change, state);
        return snapshot;
    }

    // Elapsed time since construction (monotonic, from the TimeProvider) in bucket widths.
    private long CurrentBucketIndex() => _timeProvider.GetElapsedTime(_origin).Ticks / BucketWidth.Ticks;

    private WindowState SumWindow(long currentIndex)
    {
        long operations = 0;
        long retried = 0;
        foreach (var bucket in _buckets)
        {
            if (bucket.Index > currentIndex - BucketCount && bucket.Index <= currentIndex)
            {
                operations += bucket.Operations;
                retried += bucket.Retried;
            }
        }

        return new WindowState(operations, retried);
    }

    private AlertChange UpdateAlert(WindowState state)
    {
        var alert = state.Operations >= AlertMinimumOperations && state.Rate > AlertThreshold;
        if (alert == _alert)
        {
            return AlertChange.None;
        }

        _alert = alert;
        return alert ? AlertChange.Raised : AlertChange.Cleared;
    }

    private void LogAlertChange(AlertChange change, WindowState state)
    {
        switch (change)
        {
            case AlertChange.Raised:
                ResilienceLog.RetryRateHigh(_logger, state.Rate, Window.TotalMinutes, state.Retried, state.Operations, AlertThreshold);
                break;
            case AlertChange.Cleared:
                ResilienceLog.RetryRateNormal(_logger, state.Rate, Window.TotalMinutes, state.Retried, state.Operations);
                break;
            default:
                break;
        }
    }

    private enum AlertChange
    {
        None,
        Raised,
        Cleared,
    }

    private struct Bucket
    {
        public long Index;
        public long Operations;
        public long Retried;
    }

    private readonly record struct WindowState(long Operations, long Retried)
    {
        public double Rate => Operations == 0 ? 0 : (double)Retried / Operations;
    }
}
