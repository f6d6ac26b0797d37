using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Storage.Migrations;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Maintenance;

/// <summary>Page-level statistics of the database file.</summary>
/// <param name="PageSize">Bytes per page.</param>
/// <param name="PageCount">Pages in the database.</param>
/// <param name="FreelistCount">Unused pages awaiting vacuum.</param>
/// <param name="WalBytes">Size of the <c>-wal</c> file (0 when absent).</param>
/// <param name="JournalMode">e.g. <c>wal</c>.</param>
/// <param name="AutoVacuum"><c>none</c>, <c>full</c> or <c>incremental</c>.</param>
public sealed record PageStatistics(long PageSize, long PageCount, long FreelistCount, long WalBytes, string JournalMode, string AutoVacuum)
{
    /// <summary>Database size: pages times page size.</summary>
    public long SizeBytes => PageCount * PageSize;

    /// <summary>Space held by free pages.</summary>
    public long FreelistBytes => FreelistCount * PageSize;

    /// <summary>True when the file reclaims space only through a full VACUUM.</summary>
    public bool NeedsFullVacuum => AutoVacuum != "incremental";
}

/// <summary>Reads the storage's state: page statistics, pragmas and schema version.</summary>
public sealed class StorageInspector(ConsensusDatabase database, StorageExecutor storage)
{
    /// <summary>Page statistics now.</summary>
    public ValueTask<PageStatistics> GetPageStatisticsAsync(CancellationToken cancellationToken) =>
        storage.ReadAsync("storage_statistics", (connection, _) => Read(connection, database.Path), cancellationToken);

    /// <summary>The eight pragmas as a pooled connection has them now.</summary>
    public ValueTask<IReadOnlyList<PragmaCheck>> CheckPragmasAsync(CancellationToken cancellationToken) =>
        storage.ReadAsync("check_pragmas", (connection, _) => Pragmas.Check(connection, database.Options), cancellationToken);

    /// <summary>The schema's migration state.</summary>
    public ValueTask<MigrationStatus> GetMigrationStatusAsync(CancellationToken cancellationToken) =>
        storage.ReadAsync("migration_status", (connection, _) => MigrationRunner.GetStatus(connection), cancellationToken);

    internal static PageStatistics Read(SqliteConnection connection, string path)
    {
        var wal = new FileInfo(path + "-wal");
        return new PageStatistics(
            connection.ExecuteScalar<long>("PRAGMA page_size"),
            connection.ExecuteScalar<long>("PRAGMA page_count"),
            connection.ExecuteScalar<long>("PRAGMA freelist_count"),
            wal.Exists ? wal.Length : 0,
            connection.ExecuteScalar<string>("PRAGMA journal_mode") ?? "",
            connection.ExecuteScalar<long>("PRAGMA auto_vacuum") switch
            {
                0 => "none",
                1 => "full",
                2 => "incremental",
                var other => other.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
    }
}
