using System.Diagnostics.Metrics;
using ConsensusApi.Domain.Resilience;

namespace ConsensusApi.Client;

/// <summary>A point-in-time view of <see cref="ConsensusApiClientTelemetry"/>.</summary>
/// <param name="Operations">Calls completed (successfully or not).</param>
/// <param name="RetriedOperations">Calls that needed at least one retry.</param>
/// <param name="Attempts">Retries made (first tries are not counted).</param>
/// <param name="Recovered">Calls that succeeded after at least one retry.</param>
/// <param name="Exhausted">Calls that still failed transiently when the retries ran out.</param>
public sealed record ClientRetrySnapshot(long Operations, long RetriedOperations, long Attempts, long Recovered, long Exhausted)
{
    /// <summary>Retried calls per call (0 with no calls).</summary>
    public double RetryRate => Operations == 0 ? 0 : (double)RetriedOperations / Operations;
}

/// <summary>
/// The client's retry counters, as the service keeps them for storage: attempts, retried,
/// recovered and exhausted calls, also published on the <c>ConsensusApi.Client</c> meter
/// (<c>consensus_client.retry.*</c>, tagged with the operation). Thread-safe; one per container.
/// </summary>
public sealed class ConsensusApiClientTelemetry
{
    /// <summary>Name of the client's meter.</summary>
    public const string MeterName = "ConsensusApi.Client";

    private readonly Counter<long>? _operations;
    private readonly Counter<long>? _attempts;
    private readonly Counter<long>? _retried;
    private readonly Counter<long>? _recovered;
    private readonly Counter<long>? _exhausted;
    private long _operationCount;
    private long _attemptCount;
    private long _retriedCount;
    private long _recoveredCount;
    private long _exhaustedCount;

    /// <summary>Creates the counters, on a meter from <paramref name="meterFactory"/> when one is given.</summary>
    /// <param name="meterFactory">Where the meter comes from; without one only <see cref="Snapshot"/> reports.</param>
    public ConsensusApiClientTelemetry(IMeterFactory? meterFactory = null)
    {
        if (meterFactory is null)
        {
            return;
        }

        var meter = meterFactory.Create(MeterName);
        _operations = meter.CreateCounter<long>("consensus_client.operations", description: "Calls to the service completed.");
        _attempts = meter.CreateCounter<long>("consensus_client.retry.attempts", description: "Retries made after a transient failure.");
        _retried = meter.CreateCounter<long>("consensus_client.retry.retried_operations", description: "Calls that needed at least one retry.");
        _recovered = meter.CreateCounter<long>("consensus_client.retry.recovered", description: "Calls that succeeded after a retry.");
        _exhausted = meter.CreateCounter<long>("consensus_client.retry.exhausted", description: "Calls that failed transiently after every retry.");
    }

    /// <summary>Records one retry of <paramref name="operation"/> (before its delay).</summary>
    /// <param name="operation">The call's name, e.g. <c>store_artifact</c>.</param>
    public void RecordRetry(string operation)
    {
        Interlocked.Increment(ref _attemptCount);
        _attempts?.Add(1, Tag(operation));
    }

    /// <summary>Records a completed call.</summary>
    /// <param name="operation">The call's name.</param>
    /// <param name="retries">Retries it made.</param>
    /// <param name="outcome">How it ended.</param>
    public void RecordOperation(string operation, int retries, RetryOutcome outcome)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        Interlocked.Increment(ref _operationCount);
        _operations?.Add(1, Tag(operation));
        if (retries > 0)
        {
            Interlocked.Increment(ref _retriedCount);
            _retried?.Add(1, Tag(operation));
            if (outcome == RetryOutcome.Succeeded)
            {
                Interlocked.Increment(ref _recoveredCount);
                _recovered?.Add(1, Tag(operation));
            }
        }

        if (outcome == RetryOutcome.Exhausted)
        {
            Interlocked.Increment(ref _exhaustedCount);
            _exhausted?.Add(1, Tag(operation));
        }
    }

    /// <summary>The counters now.</summary>
    /// <returns>A snapshot; each counter is read atomically.</returns>
    public ClientRetrySnapshot Snapshot() => new(
        Interlocked.Read(ref _operationCount),
        Interlocked.Read(ref _retriedCount),
        Interlocked.Read(ref _attemptCount),
        Interlocked.Read(ref _recoveredCount),
        Interlocked.Read(ref _exhaustedCount));

    private static KeyValuePair<string, object?> Tag(string operation) => new("operation", operation);
}
