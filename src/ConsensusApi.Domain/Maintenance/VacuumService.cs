using System.Diagnostics;
using System.Globalization;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Maintenance;

/// <summary>How a vacuum reclaims space.</summary>
public enum VacuumMode
{
    /// <summary><c>PRAGMA incremental_vacuum(N)</c>: frees up to N pages, cheap, online.</summary>
    Incremental,

    /// <summary><c>VACUUM</c>: rebuilds the file; switches it to incremental auto-vacuum.</summary>
    Full,
}

/// <summary>Figures of one vacuum run.</summary>
public sealed record VacuumResult
{
    /// <summary>How it ran.</summary>
    public required VacuumMode Mode { get; init; }

    /// <summary>Database size before.</summary>
    public required long SizeBeforeBytes { get; init; }

    /// <summary>Database size after.</summary>
    public required long SizeAfterBytes { get; init; }

    /// <summary>Bytes returned to the file system.</summary>
    public long ReclaimedBytes => Math.Max(0, SizeBeforeBytes - SizeAfterBytes);

    /// <summary>Free pages' bytes before.</summary>
    public required long FreelistBeforeBytes { get; init; }

    /// <summary>Free pages' bytes after.</summary>
    public required long FreelistAfterBytes { get; init; }

    /// <summary>Pages requested (incremental) or 0 (full).</summary>
    public required int Pages { get; init; }

    /// <summary>Wall time taken.</summary>
    public required long DurationMs { get; init; }

    /// <summary>auto_vacuum mode after the run.</summary>
    public required string AutoVacuum { get; init; }

    /// <summary>When it finished.</summary>
    public required DateTimeOffset CompletedAt { get; init; }
}

/// <summary>
/// Reclaims free pages. One cycle purges expired idempotency keys, runs
/// <c>PRAGMA incremental_vacuum(N)</c> and checkpoints the WAL so the file really shrinks; a full
/// VACUUM rebuilds the file and switches a database created without incremental auto-vacuum.
/// Both run alone on the write lane, between write transactions.
/// </summary>
public sealed class VacuumService(
    ConsensusDatabase database,
    StorageExecutor storage,
    IOptions<VacuumOptions> options,
    ConsensusMetrics metrics,
    TimeProvider timeProvider,
    ILogger<VacuumService> logger)
{
    private VacuumResult? _last;
    private DateTimeOffset? _next;

    /// <summary>The last completed run, if any since start-up.</summary>
    public VacuumResult? LastRun => Volatile.Read(ref _last);

    /// <summary>When the scheduler runs the next cycle.</summary>
    public DateTimeOffset? NextRunAt
    {
        get => _next;
        internal set => _next = value;
    }

    /// <summary>Runs one incremental cycle of <paramref name="pages"/> pages (default <c>Vacuum:Pages</c>).</summary>
    public ValueTask<VacuumResult> RunIncrementalAsync(int? pages, CancellationToken cancellationToken)
    {
        var count = pages ?? options.Value.Pages;
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(pages));
        return RunAsync(VacuumMode.Incremental, count, connection =>
        {
            SqliteTransactions.Run(connection, TransactionKind.Immediate, (c, _) =>
                IdempotencyStore.Purge(c, timeProvider.GetUtcNow().ToUnixTimeMilliseconds()), CancellationToken.None);
            SqliteTransactions.Execute(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA incremental_vacuum({count})"));
        }, cancellationToken);
    }

    /// <summary>Runs a full VACUUM, switching the file to incremental auto-vacuum.</summary>
    public ValueTask<VacuumResult> RunFullAsync(CancellationToken cancellationToken) =>
        RunAsync(VacuumMode.Full, 0, connection =>
        {
            SqliteTransactions.Execute(connection, "PRAGMA auto_vacuum = INCREMENTAL");
            SqliteTransactions.Execute(connection, "VACUUM");
        }, cancellationToken);

    private async ValueTask<VacuumResult> RunAsync(VacuumMode mode, int pages, Action<SqliteConnection> vacuum, CancellationToken cancellationToken)
    {
        try
        {
            var result = await storage.WriteAloneAsync(mode == VacuumMode.Full ? "vacuum_full" : "vacuum_incremental", (connection, _) =>
            {
                var watch = Stopwatch.StartNew();
                Checkpoint(connection);
                var before = StorageInspector.Read(connection, database.Path);
                vacuum(connection);
                Checkpoint(connection);
                var after = StorageInspector.Read(connection, database.Path);
                return new VacuumResult
                {
                    Mode = mode,
                    SizeBeforeBytes = before.SizeBytes,
                    SizeAfterBytes = after.SizeBytes,
                    FreelistBeforeBytes = before.FreelistBytes,
                    FreelistAfterBytes = after.FreelistBytes,
                    Pages = pages,
                    DurationMs = watch.ElapsedMilliseconds,
                    AutoVacuum = after.AutoVacuum,
                    CompletedAt = timeProvider.GetUtcNow(),
                };
            }, cancellationToken);
            Volatile.Write(ref _last, result);
            metrics.VacuumCycle(succeeded: true, result.ReclaimedBytes);
            StorageLog.VacuumCycle(logger, database.Path, result.SizeBeforeBytes, result.SizeAfterBytes, result.FreelistBeforeBytes, result.FreelistAfterBytes, pages, result.DurationMs);
            if (mode == VacuumMode.Incremental && result.AutoVacuum != "incremental")
            {
                StorageLog.AutoVacuumOff(logger, database.Path, result.AutoVacuum);
            }

            return result;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.VacuumCycle(succeeded: false, 0);
            throw;
        }
    }

    /// <summary>Moves the WAL's pages into the file and truncates it, so sizes reflect the file.</summary>
    internal static void Checkpoint(SqliteConnection connection) =>
        SqliteTransactions.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
}
