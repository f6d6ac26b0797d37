using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Maintenance;

/// <summary>
/// Runs an incremental vacuum cycle every <c>Vacuum:Interval</c> on the injected clock. A failed
/// cycle is logged and the schedule goes on; cancellation ends the loop at once.
/// </summary>
public sealed class VacuumScheduler(VacuumService vacuum, IOptions<VacuumOptions> options, TimeProvider timeProvider, ILogger<VacuumScheduler> logger)
{
    /// <summary>Runs cycles until <paramref name="stoppingToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Interval;
        using var timer = new PeriodicTimer(interval, timeProvider);
        vacuum.NextRunAt = timeProvider.GetUtcNow() + interval;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await vacuum.RunIncrementalAsync(null, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // A failed cycle must never stop the schedule or the service.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    StorageLog.VacuumCycleFailed(logger, ex);
                }

                vacuum.NextRunAt = timeProvider.GetUtcNow() + interval;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            vacuum.NextRunAt = null;
        }
    }
}
