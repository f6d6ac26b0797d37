using System.Diagnostics.Metrics;

namespace ConsensusApi.Domain.Telemetry;

/// <summary>
/// The service's one <see cref="Meter"/> ("ConsensusApi"). Every counter and histogram of the
/// Domain is created here so names and tags are defined once.
/// </summary>
public sealed class ConsensusMetrics
{
    /// <summary>Name of the meter, for exporters and listeners.</summary>
    public const string MeterName = "ConsensusApi";

    /// <summary>Tag naming the storage operation (e.g. <c>store_artifact</c>).</summary>
    public const string OperationTag = "operation";

    /// <summary>Tag naming the outcome of an operation or a vacuum cycle.</summary>
    public const string OutcomeTag = "outcome";

    private readonly Counter<long> _retryAttempts;
    private readonly Counter<long> _retriedOperations;
    private readonly Counter<long> _retryRecovered;
    private readonly Counter<long> _retryExhausted;
    private readonly Counter<long> _dualWrites;
    private readonly Counter<long> _dualWriteValidations;
    private readonly Counter<long> _dualWriteMismatches;
    private readonly Counter<long> _poolWaits;
    private readonly Counter<long> _poolReplaced;
    private readonly Histogram<double> _writeBatchSize;
    private readonly Counter<long> _vacuumCycles;
    private readonly Counter<long> _vacuumReclaimedBytes;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public ConsensusMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _retryAttempts = Meter.CreateCounter<long>("consensus.retry.attempts", description: "Retry attempts made after a transient failure.");
        _retriedOperations = Meter.CreateCounter<long>("consensus.retry.retried_operations", description: "Operations that needed at least one retry.");
        _retryRecovered = Meter.CreateCounter<long>("consensus.retry.recovered", description: "Operations that succeeded after a retry.");
        _retryExhausted = Meter.CreateCounter<long>("consensus.retry.exhausted", description: "Operations that failed after every retry.");
        _dualWrites = Meter.CreateCounter<long>("consensus.dual_write.writes", description: "Writes stored in both the legacy and the normalized schema.");
        _dualWriteValidations = Meter.CreateCounter<long>("consensus.dual_write.validations", description: "Dual-writes read back and compared.");
        _dualWriteMismatches = Meter.CreateCounter<long>("consensus.dual_write.mismatches", description: "Dual-writes whose two representations differed (dual_write_mismatch).");
        _poolWaits = Meter.CreateCounter<long>("consensus.pool.waits", description: "Connection checkouts that had to wait for a free connection.");
        _poolReplaced = Meter.CreateCounter<long>("consensus.pool.replaced", description: "Pooled connections discarded by the health check and replaced.");
        _writeBatchSize = Meter.CreateHistogram<double>("consensus.write_lane.batch_size", unit: "{unit}", description: "Units of work committed together by the write lane.");
        _vacuumCycles = Meter.CreateCounter<long>("consensus.vacuum.cycles", description: "Incremental vacuum cycles run.");
        _vacuumReclaimedBytes = Meter.CreateCounter<long>("consensus.vacuum.reclaimed", unit: "By", description: "Bytes returned to the file system by vacuum.");
    }

    /// <summary>The meter every instrument belongs to.</summary>
    public Meter Meter { get; }

    internal void RetryAttempt(string operation) => _retryAttempts.Add(1, new KeyValuePair<string, object?>(OperationTag, operation));

    internal void RetriedOperation(string operation) => _retriedOperations.Add(1, new KeyValuePair<string, object?>(OperationTag, operation));

    internal void RetryRecovered(string operation) => _retryRecovered.Add(1, new KeyValuePair<string, object?>(OperationTag, operation));

    internal void RetryExhausted(string operation) => _retryExhausted.Add(1, new KeyValuePair<string, object?>(OperationTag, operation));

    internal void DualWrite() => _dualWrites.Add(1);

    internal void DualWriteValidated() => _dualWriteValidations.Add(1);

    internal void DualWriteMismatch() => _dualWriteMismatches.Add(1);

    internal void PoolWaited() => _poolWaits.Add(1);

    internal void PoolConnectionReplaced() => _poolReplaced.Add(1);

    internal void WriteBatch(int units) => _writeBatchSize.Record(units);

    internal void VacuumCycle(bool succeeded, long reclaimedBytes)
    {
        _vacuumCycles.Add(1, new KeyValuePair<string, object?>(OutcomeTag, succeeded ? "ok" : "error"));
        if (reclaimedBytes > 0)
        {
            _vacuumReclaimedBytes.Add(reclaimedBytes);
        }
    }
}
