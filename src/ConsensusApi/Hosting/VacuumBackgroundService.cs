using ConsensusApi.Domain.Maintenance;

namespace ConsensusApi.Hosting;

/// <summary>Runs the Domain's vacuum schedule for the host's lifetime; stopping the host cancels it.</summary>
internal sealed class VacuumBackgroundService(VacuumScheduler scheduler) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => scheduler.RunAsync(stoppingToken);
}
