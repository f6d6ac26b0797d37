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
/// The copy is written under a temporary name of its own and renamed once complete.
/// </summary>
public sealed class BackupService(ConsensusDatabase database, StorageExecutor storage, IOptions<BackupOptions> options, TimeProvider timeProvider, ILogger<BackupService> logger)
{
    /// <summary>Writes a backup into <c>Backup:Folder</c>, named after the database and the time.</summary>
    public async ValueTask<BackupResult> BackupAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var folder = System.IO.Path.GetFullPath(options.Value.Folder);
        var stem = string.Create(CultureInfo.InvariantCulture,
            $"{System.IO.Path.GetFileNameWithoutExtension(database.Path)}-{now:yyyyMMdd'T'HHmmssfff'Z'}");
        var partial = await WritePartialAsync(System.IO.Path.Combine(folder, stem + ".db"), cancellationToken);
        try
        {
            for (var n = 1; ; n++)
            {
                // Two backups within one millisecond (two operators, a retried call): keep both.
                var target = System.IO.Path.Combine(folder, n == 1 ? stem + ".db" : string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}.db"));
                if (TryPublish(partial, target))
                {
                    return Written(target);
                }
            }
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>Writes a backup to <paramref name="destination"/>; an existing file there is an error.</summary>
    public async ValueTask<BackupResult> BackupToAsync(string destination, CancellationToken cancellationToken)
    {
        var target = System.IO.Path.GetFullPath(destination);
        if (File.Exists(target))
        {
            throw new IOException($"Backup target '{target}' already exists.");
        }

        var partial = await WritePartialAsync(target, cancellationToken);
        try
        {
            return TryPublish(partial, target) ? Written(target) : throw new IOException($"Backup target '{target}' already exists.");
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>
    /// Writes the copy under a name of its own beside <paramref name="target"/>: backups running at
    /// the same time must not write into one file (VACUUM INTO refuses an existing file, and a
    /// shared temporary name let one backup delete another's copy).
    /// </summary>
    private async ValueTask<string> WritePartialAsync(string target, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        var partial = string.Create(CultureInfo.InvariantCulture, $"{target}.{Guid.NewGuid():N}.partial");
        try
        {
            await storage.ReadAsync("backup", (connection, _) =>
            {
                File.Delete(partial); // a retried attempt starts over
                return WriteCopy(connection, partial);
            }, cancellationToken);
            return partial;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>
    /// Gives the finished copy its name, unless a file already has it. The name is reserved by
    /// creating the file exclusively (O_EXCL, atomic) and the copy then renamed over it:
    /// File.Move without overwrite is not atomic on Linux (it checks, then renames), and two
    /// backups of the same millisecond could both take one name, the second replacing the first.
    /// </summary>
    private static bool TryPublish(string partial, string target)
    {
        try
        {
            using (new FileStream(target, FileMode.CreateNew, FileAccess.Write))
            {
            }
        }
        catch (IOException) when (File.Exists(target))
        {
            return false;
        }

        File.Move(partial, target, overwrite: true);
        return true;
    }

    private BackupResult Written(string target)
    {
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
