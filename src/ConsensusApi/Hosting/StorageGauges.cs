using System.Diagnostics.Metrics;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Telemetry;

namespace ConsensusApi.Hosting;

/// <summary>Observable gauges of the pool and the retry window, on the service's one meter.</summary>
internal sealed class StorageGauges(ConsensusMetrics metrics, ConsensusDatabase database, RetryTelemetry retry)
{
    private int _registered;

    public void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        var meter = metrics.Meter;
        meter.CreateObservableGauge("consensus.pool.in_use", () => database.IsReady ? database.Pool.Statistics.InUse : 0, description: "Connections leased out, the write lane's included.");
        meter.CreateObservableGauge("consensus.pool.idle", () => database.IsReady ? database.Pool.Statistics.Idle : 0, description: "Open connections waiting in the pool.");
        meter.CreateObservableGauge("consensus.pool.open", () => database.IsReady ? database.Pool.Statistics.Open : 0, description: "Physical connections open.");
        meter.CreateObservableGauge("consensus.retry.rate", () => retry.Snapshot().RetryRate, description: "Share of operations retried over the last 5 minutes.");
        meter.CreateObservableGauge("consensus.retry.alert", () => retry.Snapshot().Alert ? 1 : 0, description: "1 while the recent retry rate exceeds 20%.");
    }
}
