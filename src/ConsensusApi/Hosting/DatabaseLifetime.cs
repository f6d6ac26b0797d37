using ConsensusApi.Domain.Storage;

namespace ConsensusApi.Hosting;

/// <summary>
/// Opens the database before the server takes requests and closes it after the last one:
/// hosted services start before Kestrel and stop after it has drained in-flight requests.
/// </summary>
internal sealed class DatabaseLifetime(ConsensusDatabase database) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => database.OpenAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken) => await database.DisposeAsync();
}
