using System.Globalization;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Storage.Migrations;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Maintenance;

/// <summary>Rows in one table.</summary>
/// <param name="Table">The table's name.</param>
/// <param name="Rows">Its row count.</param>
public sealed record TableRows(string Table, long Rows);

/// <summary>What a database file holds, read without changing it.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="FileBytes">Size of the file on disk.</param>
/// <param name="Pages">Page statistics (the WAL size included).</param>
/// <param name="SchemaVersion">Its <c>PRAGMA user_version</c>.</param>
/// <param name="LatestVersion">The newest version this application knows.</param>
/// <param name="Tables">Row counts per table, by name.</param>
public sealed record DatabaseFileStatistics(
    string Path, long FileBytes, PageStatistics Pages, int SchemaVersion, int LatestVersion, IReadOnlyList<TableRows> Tables);

/// <summary>What <c>migrate</c> would change in a file.</summary>
/// <param name="SchemaVersion">The file's schema version.</param>
/// <param name="LatestVersion">The newest version this application knows.</param>
/// <param name="Pending">Migrations not applied yet.</param>
/// <param name="LegacyRowsWithoutTwin">Legacy rows (artifacts and syntheses) the backfill would copy into the normalized schema.</param>
public sealed record MigrationPlan(int SchemaVersion, int LatestVersion, IReadOnlyList<MigrationInfo> Pending, long LegacyRowsWithoutTwin)
{
    /// <summary>True when opening the file would change nothing.</summary>
    public bool UpToDate => Pending.Count == 0 && LegacyRowsWithoutTwin == 0;
}

/// <summary>
/// Offline looks at a database file for operators' commands: statistics, the migration plan and
/// the backup written before a migration. Read-only: nothing here changes the file (a crashed
/// writer's hot journal excepted, which SQLite rolls back on open as every client does).
/// </summary>
public static class DatabaseFile
{
    /// <summary>SQLITE_READONLY_ROLLBACK: a read-only connection met a hot journal it cannot roll back.</summary>
    private const int SqliteReadOnlyRollback = 776;

    /// <summary>Page statistics, schema version and row counts of every table.</summary>
    /// <param name="path">The database file; it must exist.</param>
    /// <returns>The statistics.</returns>
    public static DatabaseFileStatistics ReadStatistics(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        using var connection = OpenForReading(full);
        var pages = StorageInspector.Read(connection, full);
        var tables = connection.Query<string>(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .Select(name => new TableRows(name, connection.ExecuteScalar<long>($"SELECT count(*) FROM \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"")))
            .ToList();
        return new DatabaseFileStatistics(
            full, new FileInfo(full).Length, pages, MigrationRunner.GetSchemaVersion(connection), MigrationRunner.LatestVersion, tables);
    }

    /// <summary>The schema version, the pending migrations and the legacy rows a backfill would copy.</summary>
    /// <param name="path">The database file; it must exist.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="Errors.DatabaseStartupException">The file is newer than this application.</exception>
    public static MigrationPlan PlanMigration(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        using var connection = OpenForReading(full);
        var status = MigrationRunner.GetStatus(connection);
        MigrationRunner.EnsureNotNewer(status.CurrentVersion, full);
        var tables = connection.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table'").ToHashSet(StringComparer.Ordinal);
        long withoutTwin = 0;
        if (tables.Contains("consensus_artifacts"))
        {
            withoutTwin += tables.Contains("agent_outputs")
                ? connection.ExecuteScalar<long>("SELECT count(*) FROM consensus_artifacts l WHERE NOT EXISTS (SELECT 1 FROM agent_outputs o WHERE o.id = l.id)")
                : connection.ExecuteScalar<long>("SELECT count(*) FROM consensus_artifacts");
        }

        if (tables.Contains("consensus_synthesis"))
        {
            withoutTwin += tables.Contains("run_syntheses")
                ? connection.ExecuteScalar<long>("SELECT count(*) FROM consensus_synthesis l WHERE NOT EXISTS (SELECT 1 FROM run_syntheses s WHERE s.id = l.id)")
                : connection.ExecuteScalar<long>("SELECT count(*) FROM consensus_synthesis");
        }

        return new MigrationPlan(status.CurrentVersion, status.LatestVersion, status.Pending, withoutTwin);
    }

    /// <summary>A read-only connection; a hot journal left by a crashed writer is rolled back first.</summary>
    internal static SqliteConnection OpenForReading(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"There is no database at '{path}'.", path);
        }

        try
        {
            return Touch(SqliteConnections.OpenReadOnly(path));
        }
        catch (SqliteException ex) when (ex.SqliteExtendedErrorCode == SqliteReadOnlyRollback)
        {
            // Only a read-write connection can roll the journal back, which restores the last committed state.
            Touch(SqliteConnections.OpenExisting(path)).Dispose();
            return Touch(SqliteConnections.OpenReadOnly(path));
        }
    }

    // Opening is lazy in SQLite: the first read is what fails on a file that is not a database.
    private static SqliteConnection Touch(SqliteConnection connection)
    {
        try
        {
            connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
