using System.Diagnostics;
using System.Globalization;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Telemetry;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Storage.Migrations;

/// <summary>A schema version this application knows.</summary>
/// <param name="Version">The <c>PRAGMA user_version</c> it leaves behind.</param>
/// <param name="Name">Short description.</param>
public sealed record MigrationInfo(int Version, string Name);

/// <summary>A migration recorded as applied.</summary>
public sealed record AppliedMigration(int Version, string Name, DateTimeOffset AppliedAt);

/// <summary>Where the database's schema stands.</summary>
public sealed record MigrationStatus(
    int CurrentVersion,
    int LatestVersion,
    IReadOnlyList<MigrationInfo> Pending,
    IReadOnlyList<AppliedMigration> Applied,
    bool LegacyTablesPresent);

/// <summary>
/// Forward-only migrations tracked in <c>PRAGMA user_version</c>. Version 0 is the legacy schema
/// (created when absent); every later version runs in its own exclusive transaction together with
/// its <c>schema_migrations</c> record and the new <c>user_version</c>, so it is applied entirely
/// or not at all. Later versions only add, or replace an index of their own: the legacy tables stay
/// during the dual-write period.
/// </summary>
internal sealed class MigrationRunner(ILogger logger, TimeProvider timeProvider)
{
    private sealed record Migration(int Version, string Name, Action<SqliteConnection> Apply);

    private static readonly Migration[] All =
    [
        new(1, "normalized schema", connection => ExecuteScript(connection, "0001_normalized_schema.sql")),
        new(2, "lossless columns, read indexes, summaries, idempotency keys", connection => ExecuteScript(connection, "0002_lossless_reads.sql")),
        new(3, "backfill legacy rows", connection => LegacyBackfill.Run(connection)),
        new(4, "agent list index led by the agent", connection => ExecuteScript(connection, "0004_agent_index_led_by_agent.sql")),
    ];

    /// <summary>The newest version this application knows.</summary>
    public static int LatestVersion => All[^1].Version;

    /// <summary>Reads <c>PRAGMA user_version</c>.</summary>
    public static int GetSchemaVersion(SqliteConnection connection) =>
        connection.ExecuteScalar<int>("PRAGMA user_version");

    /// <summary>Sets <c>PRAGMA user_version</c>; inside a transaction it commits or rolls back with it.</summary>
    public static void SetSchemaVersion(SqliteConnection connection, int version) =>
        connection.Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version = {version}"));

    /// <summary>Throws when the file was written by a newer application; the file is not touched.</summary>
    public static void EnsureNotNewer(int version, string path)
    {
        if (version > LatestVersion)
        {
            throw new DatabaseStartupException(
                $"Database '{path}' has schema version {version}, newer than this application's {LatestVersion}; it was left unmodified. Run a newer ConsensusApi against it.");
        }
    }

    /// <summary>Applies every pending migration in order; returns how many ran.</summary>
    public int MigrateToLatest(SqliteConnection connection, string path)
    {
        var current = GetSchemaVersion(connection);
        EnsureNotNewer(current, path);
        if (current == 0)
        {
            SqliteTransactions.Run(connection, TransactionKind.Exclusive, (c, _) => ExecuteScript(c, "0000_legacy.sql"), CancellationToken.None);
        }

        var applied = 0;
        foreach (var migration in All.Where(m => m.Version > current))
        {
            var watch = Stopwatch.StartNew();
            SqliteTransactions.Run(connection, TransactionKind.Exclusive, (c, _) =>
            {
                // Re-read inside the lock: another process may have migrated meanwhile.
                if (GetSchemaVersion(c) >= migration.Version)
                {
                    return;
                }

                migration.Apply(c);
                c.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
                c.Execute(
                    "INSERT OR REPLACE INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @AppliedAt)",
                    new { migration.Version, migration.Name, AppliedAt = timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture) });
                SetSchemaVersion(c, migration.Version);
            }, CancellationToken.None);
            StorageLog.MigrationApplied(logger, migration.Version, migration.Name, path, watch.ElapsedMilliseconds);
            applied++;
        }

        return applied;
    }

    /// <summary>The schema's state, for operators.</summary>
    public static MigrationStatus GetStatus(SqliteConnection connection)
    {
        var current = GetSchemaVersion(connection);
        var tables = connection.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table'").ToHashSet(StringComparer.Ordinal);
        var applied = tables.Contains("schema_migrations")
            ? connection.Query<(long Version, string Name, string AppliedAt)>("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
                .Select(row => new AppliedMigration((int)row.Version, row.Name, DateTimeOffset.Parse(row.AppliedAt, CultureInfo.InvariantCulture)))
                .ToList()
            : [];
        return new MigrationStatus(
            current,
            LatestVersion,
            All.Where(m => m.Version > current).Select(m => new MigrationInfo(m.Version, m.Name)).ToList(),
            applied,
            tables.Contains("consensus_artifacts") && tables.Contains("consensus_synthesis"));
    }

    private static void ExecuteScript(SqliteConnection connection, string name)
    {
        using var stream = typeof(MigrationRunner).Assembly.GetManifestResourceStream($"ConsensusApi.Domain.Storage.Migrations.{name}")
            ?? throw new InvalidOperationException($"Migration script {name} is not embedded.");
        using var reader = new StreamReader(stream);
        connection.Execute(reader.ReadToEnd());
    }
}
