using System.Globalization;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Telemetry;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Maintenance;

/// <summary>A written backup.</summary>
/// <param name="Path">Full path of the backup file.</param>
/// <param name="SizeBytes">Its size.</param>
/// <param name="CreatedAt">When it was completed.</param>
public sealed record BackupResult(string Path, long SizeBytes, DateTimeOffset CreatedAt);

/// <summary>
/// Online, consistent backups with <c>VACUUM INTO</c>: one read transaction's snapshot, written
/// compactly into a single self-contained file (no <c>-wal</c> beside it), while writes go on.
/// The copy is written under a temporary name and renamed once complete.
/// </summary>
public sealed class BackupService(ConsensusDatabase database, StorageExecutor storage, IOptions<BackupOptions> options, TimeProvider timeProvider, ILogger<BackupService> logger)
{
    /// <summary>Writes a backup into <c>Backup:Folder</c>, named after the database and the time.</summary>
    public ValueTask<BackupResult> BackupAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var folder = System.IO.Path.GetFullPath(options.Value.Folder);
        var stem = string.Create(CultureInfo.InvariantCulture,
            $"{System.IO.Path.GetFileNameWithoutExtension(database.Path)}-{now:yyyyMMdd'T'HHmmssfff'Z'}");
        var target = System.IO.Path.Combine(folder, stem + ".db");
        for (var n = 2; File.Exists(target); n++)
        {
            // Two backups within one millisecond: keep both.
            target = System.IO.Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}.db"));
        }

        return BackupToAsync(target, cancellationToken);
    }

    /// <summary>Writes a backup to <paramref name="destination"/>; an existing file there is an error.</summary>
    public async ValueTask<BackupResult> BackupToAsync(string destination, CancellationToken cancellationToken)
    {
        var target = System.IO.Path.GetFullPath(destination);
        if (File.Exists(target))
        {
            throw new IOException($"Backup target '{target}' already exists.");
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        var partial = target + ".partial";
        File.Delete(partial);
        try
        {
            await storage.ReadAsync("backup", (connection, _) => WriteCopy(connection, partial), cancellationToken);
            File.Move(partial, target);
        }
        finally
        {
            File.Delete(partial);
        }

        var result = new BackupResult(target, new FileInfo(target).Length, timeProvider.GetUtcNow());
        StorageLog.BackupWritten(logger, database.Path, target, result.SizeBytes);
        return result;
    }

    internal static bool WriteCopy(SqliteConnection connection, string destination)
    {
        connection.Execute("VACUUM INTO @destination", new { destination });
        return true;
    }
}
