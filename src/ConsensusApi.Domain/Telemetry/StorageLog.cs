using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Telemetry;

/// <summary>Source-generated log messages of the storage engine.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1001, LogLevel.Warning, "A pooled connection to {Path} failed its health check and was replaced.")]
    public static partial void ConnectionReplaced(ILogger logger, string path);

    [LoggerMessage(1002, LogLevel.Information, "Database {Path} opened: schema version {Version}, pool size {PoolSize}.")]
    public static partial void DatabaseOpened(ILogger logger, string path, int version, int poolSize);

    [LoggerMessage(1003, LogLevel.Information, "Applied migration {Version} ({Name}) to {Path} in {ElapsedMs} ms.")]
    public static partial void MigrationApplied(ILogger logger, int version, string name, string path, long elapsedMs);

    [LoggerMessage(1004, LogLevel.Information, "Backfilled {Artifacts} legacy artifacts and {Syntheses} legacy syntheses into the normalized schema.")]
    public static partial void Backfilled(ILogger logger, long artifacts, long syntheses);

    [LoggerMessage(1005, LogLevel.Warning, "Database {Path} was created without incremental auto-vacuum (auto_vacuum={Mode}); run one full VACUUM to switch it.")]
    public static partial void AutoVacuumOff(ILogger logger, string path, string mode);

    [LoggerMessage(1006, LogLevel.Error, "Dual-write mismatch for {Kind} {Id}: {Difference}")]
    public static partial void DualWriteMismatch(ILogger logger, string kind, long id, string difference);

    [LoggerMessage(1007, LogLevel.Error, "The write lane failed a batch of {Count} units; running them one by one.")]
    public static partial void WriteBatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(1008, LogLevel.Information, "WAL of {Path} was {WalBytes} bytes; checkpointed (TRUNCATE).")]
    public static partial void WalCheckpointed(ILogger logger, string path, long walBytes);

    [LoggerMessage(1009, LogLevel.Warning, "WAL checkpoint of {Path} failed.")]
    public static partial void WalCheckpointFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(1010, LogLevel.Information, "Vacuum cycle on {Path}: {SizeBefore} -> {SizeAfter} bytes, freelist {FreelistBefore} -> {FreelistAfter} bytes, {Pages} pages requested, {DurationMs} ms.")]
    public static partial void VacuumCycle(ILogger logger, string path, long sizeBefore, long sizeAfter, long freelistBefore, long freelistAfter, int pages, long durationMs);

    [LoggerMessage(1011, LogLevel.Error, "Scheduled vacuum cycle failed; the next one runs on schedule.")]
    public static partial void VacuumCycleFailed(ILogger logger, Exception exception);

    [LoggerMessage(1012, LogLevel.Information, "Backup of {Path} written to {Destination} ({SizeBytes} bytes).")]
    public static partial void BackupWritten(ILogger logger, string path, string destination, long sizeBytes);

    [LoggerMessage(1013, LogLevel.Information, "Database {Path} closed.")]
    public static partial void DatabaseClosed(ILogger logger, string path);

    [LoggerMessage(1014, LogLevel.Information, "Database {Path} has schema version {Version}: backed up to {Backup} ({SizeBytes} bytes) before migrating.")]
    public static partial void BackedUpBeforeMigrating(ILogger logger, string path, int version, string backup, long sizeBytes);
}
