using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConsensusApi.Hosting;

/// <summary>Ready when the database is open, its pragmas were verified and its schema is the latest.</summary>
internal sealed class DatabaseHealthCheck(ConsensusDatabase database, StorageInspector inspector) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!database.IsReady)
        {
            return HealthCheckResult.Unhealthy("The database is not open.");
        }

        var status = await inspector.GetMigrationStatusAsync(cancellationToken);
        return status.CurrentVersion == status.LatestVersion
            ? HealthCheckResult.Healthy($"Schema version {status.CurrentVersion}; pragmas verified at start-up.")
            : HealthCheckResult.Unhealthy($"Schema version {status.CurrentVersion}, expected {status.LatestVersion}.");
    }
}
