using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Storage.Migrations;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class MigrationRunnerTests : IDisposable
{
    /// <summary>The Phase 1 checklist's version 1 DDL, verbatim: the reference the migrated schema must match.</summary>
    private const string ChecklistV1 = """
        CREATE TABLE IF NOT EXISTS consensus_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            spec_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            run_timestamp INTEGER NOT NULL,
            consensus_ok BOOLEAN NOT NULL,
            degraded BOOLEAN DEFAULT 0,
            synthesis_json TEXT,
            UNIQUE(spec_id, stage, run_timestamp)
        );
        CREATE TABLE IF NOT EXISTS agent_outputs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL,
            agent_name TEXT NOT NULL,
            model_version TEXT,
            content TEXT NOT NULL,
            output_timestamp INTEGER NOT NULL,
            FOREIGN KEY(run_id) REFERENCES consensus_runs(id) ON DELETE CASCADE
        );
        CREATE INDEX IF NOT EXISTS idx_consensus_spec_stage
            ON consensus_runs(spec_id, stage);
        CREATE INDEX IF NOT EXISTS idx_consensus_timestamp
            ON consensus_runs(run_timestamp);
        CREATE INDEX IF NOT EXISTS idx_agent_outputs_run
            ON agent_outputs(run_id);
        CREATE INDEX IF NOT EXISTS idx_agent_outputs_agent
            ON agent_outputs(agent_name);
        """;

    private static readonly DateTimeOffset MigratedAt = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static MigrationRunner Runner(TimeProvider? time = null) => new(NullLogger.Instance, time ?? TimeProvider.System);

    private SqliteConnection OpenNew(string name = "migrations.db")
    {
        var path = _folder.File(name);
        return SqliteConnections.Open(path, SqliteFiles.Options(path));
    }

    private static List<(long Cid, string Name, string Type, long NotNull, string? Default, long Pk)> Columns(SqliteConnection connection, string table) =>
        connection.Query<(long, string, string, long, string?, long)>($"SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}') ORDER BY cid").ToList();

    private static List<string> IndexColumns(SqliteConnection connection, string index) =>
        connection.Query<string>($"SELECT name FROM pragma_index_info('{index}') ORDER BY seqno").ToList();

    [Fact]
    public void SchemaVersionIsReadAndWrittenThroughUserVersion()
    {
        using var connection = OpenNew();

        var initial = MigrationRunner.GetSchemaVersion(connection);
        MigrationRunner.SetSchemaVersion(connection, 7);
        var afterSet = MigrationRunner.GetSchemaVersion(connection);

        Assert.Equal(0, initial);
        Assert.Equal(7, afterSet);
        Assert.Equal(7L, connection.ExecuteScalar<long>("PRAGMA user_version"));
    }

    [Fact]
    public void SchemaVersionSetInsideARolledBackTransactionIsUndone()
    {
        using var connection = OpenNew();
        MigrationRunner.SetSchemaVersion(connection, 1);

        Assert.Throws<InvalidOperationException>(() => SqliteTransactions.Run(connection, TransactionKind.Exclusive, (c, _) =>
        {
            MigrationRunner.SetSchemaVersion(c, 2);
            throw new InvalidOperationException("migration failed");
        }, TestContext.Current.CancellationToken));

        Assert.Equal(1, MigrationRunner.GetSchemaVersion(connection));
    }

    [Fact]
    public void FreshDatabaseMigratesFromZeroToLatestWithEveryTable()
    {
        using var connection = OpenNew();

        var applied = Runner().MigrateToLatest(connection, "fresh.db");

        Assert.Equal(4, MigrationRunner.LatestVersion);
        Assert.Equal(MigrationRunner.LatestVersion, applied);
        Assert.Equal(MigrationRunner.LatestVersion, MigrationRunner.GetSchemaVersion(connection));
        var tables = connection.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").ToHashSet();
        Assert.Equal(SqliteFiles.AllTables.ToHashSet(), tables);
        Assert.Equal(new long[] { 1, 2, 3, 4 }, connection.Query<long>("SELECT version FROM schema_migrations ORDER BY version"));
    }

    [Fact]
    public void VersionOneIndexesExistWithTheChecklistNamesAndColumns()
    {
        using var connection = OpenNew();
        Runner().MigrateToLatest(connection, "fresh.db");

        Assert.Equal(new[] { "spec_id", "stage" }, IndexColumns(connection, "idx_consensus_spec_stage"));
        Assert.Equal(new[] { "run_timestamp" }, IndexColumns(connection, "idx_consensus_timestamp"));
        Assert.Equal(new[] { "run_id" }, IndexColumns(connection, "idx_agent_outputs_run"));
        Assert.Equal(new[] { "agent_name" }, IndexColumns(connection, "idx_agent_outputs_agent"));
        Assert.Equal("consensus_runs", connection.ExecuteScalar<string>("SELECT tbl_name FROM sqlite_master WHERE name = 'idx_consensus_spec_stage'"));
        Assert.Equal("consensus_runs", connection.ExecuteScalar<string>("SELECT tbl_name FROM sqlite_master WHERE name = 'idx_consensus_timestamp'"));
        Assert.Equal("agent_outputs", connection.ExecuteScalar<string>("SELECT tbl_name FROM sqlite_master WHERE name = 'idx_agent_outputs_run'"));
        Assert.Equal("agent_outputs", connection.ExecuteScalar<string>("SELECT tbl_name FROM sqlite_master WHERE name = 'idx_agent_outputs_agent'"));

        // The legacy indexes stay too.
        Assert.Equal(new[] { "spec_id", "stage" }, IndexColumns(connection, "idx_spec_stage"));
        Assert.Equal(new[] { "spec_id", "stage" }, IndexColumns(connection, "idx_synthesis_spec_stage"));
    }

    [Fact]
    public void VersionOneTablesHaveTheChecklistColumnsConstraintsAndKeys()
    {
        using var reference = new SqliteConnection("Data Source=:memory:");
        reference.Open();
        reference.Execute(ChecklistV1);
        using var connection = OpenNew();
        Runner().MigrateToLatest(connection, "fresh.db");

        foreach (var table in new[] { "consensus_runs", "agent_outputs" })
        {
            var expected = Columns(reference, table);
            var actual = Columns(connection, table);

            // Later versions only add columns after the checklist's ones.
            Assert.Equal(expected, actual.Take(expected.Count));
        }

        Assert.Equal(["created_at"], Columns(connection, "consensus_runs").Skip(7).Select(column => column.Name));
        Assert.Equal(["spec_id", "stage", "response_text", "pipeline_run_id"], Columns(connection, "agent_outputs").Skip(6).Select(column => column.Name));
        var unique = connection.Query<string>("SELECT name FROM pragma_index_list('consensus_runs') WHERE \"unique\" = 1 AND origin = 'u'").Single();
        Assert.Equal(new[] { "spec_id", "stage", "run_timestamp" }, IndexColumns(connection, unique));
        var foreignKey = connection.QuerySingle<(string Table, string From, string To, string OnDelete)>(
            "SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('agent_outputs')");
        Assert.Equal(("consensus_runs", "run_id", "id", "CASCADE"), foreignKey);
        Assert.Equal(1L, connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'consensus_runs' AND sql LIKE '%AUTOINCREMENT%'"));
        Assert.Equal(1L, connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'agent_outputs' AND sql LIKE '%AUTOINCREMENT%'"));
    }

    [Fact]
    public void LegacyTablesOfAFreshDatabaseMatchTheTerminalUiSchema()
    {
        using var reference = new SqliteConnection("Data Source=:memory:");
        reference.Open();
        reference.Execute(LegacyDatabase.Schema);
        using var connection = OpenNew();
        Runner().MigrateToLatest(connection, "fresh.db");

        Assert.Equal(Columns(reference, "consensus_artifacts"), Columns(connection, "consensus_artifacts"));
        Assert.Equal(Columns(reference, "consensus_synthesis"), Columns(connection, "consensus_synthesis"));
    }

    [Fact]
    public void MigratingAgainChangesNothing()
    {
        using var connection = OpenNew();
        var runner = Runner(new FakeTimeProvider(MigratedAt));
        runner.MigrateToLatest(connection, "db");
        var schema = SqliteFiles.Schema(connection);
        var records = SqliteFiles.Dump(connection, "schema_migrations", "version");

        var second = Runner(new FakeTimeProvider(MigratedAt.AddDays(1))).MigrateToLatest(connection, "db");

        Assert.Equal(0, second);
        Assert.Equal(schema, SqliteFiles.Schema(connection));
        Assert.Equal(records, SqliteFiles.Dump(connection, "schema_migrations", "version"));
        Assert.Equal(MigrationRunner.LatestVersion, MigrationRunner.GetSchemaVersion(connection));
    }

    [Fact]
    public async Task ReopeningTheDatabaseLeavesSchemaVersionAndRecordsUnchanged()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(MigratedAt);
        await using var first = await TestDatabase.OpenAsync(timeProvider: time);
        var path = first.Path;
        await first.Database.DisposeAsync();
        List<string> schema;
        List<string> records;
        long version;
        using (var raw = SqliteFiles.OpenRaw(path))
        {
            schema = SqliteFiles.Schema(raw);
            records = SqliteFiles.Dump(raw, "schema_migrations", "version");
            version = raw.ExecuteScalar<long>("PRAGMA user_version");
        }

        time.Advance(TimeSpan.FromDays(3));
        await using var second = await TestDatabase.OpenAsync(timeProvider: time, path: path);
        using var lease = await second.Database.Pool.AcquireAsync(ct);

        Assert.Equal(4L, version);
        Assert.Equal(schema, SqliteFiles.Schema(lease.Connection));
        Assert.Equal(records, SqliteFiles.Dump(lease.Connection, "schema_migrations", "version"));
        Assert.Equal(version, lease.Connection.ExecuteScalar<long>("PRAGMA user_version"));
    }

    [Fact]
    public async Task TwoServicesOpeningTheSameNewFileAtOnceMigrateItExactlyOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(TestDatabase.NewFolder(), "shared.db");

        var opened = await Task.WhenAll(
            Task.Run(() => TestDatabase.OpenAsync(path: path), ct),
            Task.Run(() => TestDatabase.OpenAsync(path: path), ct));
        await using var first = opened[0];
        await using var second = opened[1];
        using var lease = await first.Database.Pool.AcquireAsync(ct);

        Assert.True(first.Database.IsReady && second.Database.IsReady);
        Assert.Equal(MigrationRunner.LatestVersion, MigrationRunner.GetSchemaVersion(lease.Connection));
        Assert.Equal(new long[] { 1, 2, 3, 4 }, lease.Connection.Query<long>("SELECT version FROM schema_migrations ORDER BY version"));
        Assert.Equal(10, Columns(lease.Connection, "agent_outputs").Count);
    }

    [Fact]
    public void AppliedMigrationsAreRecordedWithTheirNamesAndTimes()
    {
        using var connection = OpenNew();
        Runner(new FakeTimeProvider(MigratedAt)).MigrateToLatest(connection, "db");

        var status = MigrationRunner.GetStatus(connection);

        Assert.Equal([1, 2, 3, 4], status.Applied.Select(migration => migration.Version));
        Assert.All(status.Applied, migration => Assert.Equal(MigratedAt, migration.AppliedAt));
        Assert.All(status.Applied, migration => Assert.False(string.IsNullOrWhiteSpace(migration.Name)));
        Assert.Equal("normalized schema", status.Applied[0].Name);
        Assert.Equal(
            MigratedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            connection.ExecuteScalar<string>("SELECT applied_at FROM schema_migrations WHERE version = 1"));
    }

    [Fact]
    public void StatusOfAMigratedDatabaseHasNothingPending()
    {
        using var connection = OpenNew();
        Runner().MigrateToLatest(connection, "db");

        var status = MigrationRunner.GetStatus(connection);

        Assert.Equal(4, status.CurrentVersion);
        Assert.Equal(4, status.LatestVersion);
        Assert.Empty(status.Pending);
        Assert.Equal(4, status.Applied.Count);
        Assert.True(status.LegacyTablesPresent);
    }

    [Fact]
    public void StatusOfALegacyDatabaseListsEveryMigrationAsPending()
    {
        var path = _folder.File("legacy.db");
        LegacyDatabase.Create(path);
        using var connection = SqliteFiles.OpenRaw(path);

        var status = MigrationRunner.GetStatus(connection);

        Assert.Equal(0, status.CurrentVersion);
        Assert.Equal([1, 2, 3, 4], status.Pending.Select(migration => migration.Version));
        Assert.Empty(status.Applied);
        Assert.True(status.LegacyTablesPresent);
    }

    [Fact]
    public void StatusOfAnEmptyFileReportsNoLegacyTables()
    {
        using var connection = OpenNew();

        var status = MigrationRunner.GetStatus(connection);

        Assert.Equal(0, status.CurrentVersion);
        Assert.Equal(4, status.Pending.Count);
        Assert.False(status.LegacyTablesPresent);
    }

    [Fact]
    public void VersionFourReplacesTheAgentListIndexOfAVersionThreeDatabaseAndKeepsEveryRow()
    {
        using var connection = OpenNew();
        Runner().MigrateToLatest(connection, "db");
        // Back to version 3 as it was shipped: the agent list index keyed by spec and stage first.
        connection.Execute("""
            DROP INDEX idx_agent_outputs_agent_stage_newest;
            CREATE INDEX idx_agent_outputs_stage_agent_newest ON agent_outputs(spec_id, stage, agent_name, output_timestamp DESC, id DESC);
            DELETE FROM schema_migrations WHERE version = 4;
            INSERT INTO consensus_runs (spec_id, stage, run_timestamp, consensus_ok) VALUES ('SPEC-1', 'spec-plan', 1000, 1);
            INSERT INTO agent_outputs (run_id, agent_name, content, output_timestamp, spec_id, stage) VALUES (1, 'gemini', '{}', 1000, 'SPEC-1', 'spec-plan');
            INSERT INTO agent_outputs (run_id, agent_name, content, output_timestamp, spec_id, stage) VALUES (1, 'claude', '{}', 1001, 'SPEC-1', 'spec-plan');
            """);
        MigrationRunner.SetSchemaVersion(connection, 3);
        var rows = SqliteFiles.Dump(connection, "agent_outputs", "id");

        var applied = Runner().MigrateToLatest(connection, "db");

        Assert.Equal(1, applied);
        Assert.Equal(4, MigrationRunner.GetSchemaVersion(connection));
        Assert.Equal(0, connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'idx_agent_outputs_stage_agent_newest'"));
        Assert.Equal(new[] { "agent_name", "spec_id", "stage", "output_timestamp", "id" }, IndexColumns(connection, "idx_agent_outputs_agent_stage_newest"));
        Assert.Equal(rows, SqliteFiles.Dump(connection, "agent_outputs", "id"));
        Assert.Equal("ok", connection.ExecuteScalar<string>("PRAGMA integrity_check"));
    }

    [Fact]
    public void FailingMigrationIsRolledBackEntirelyAndLeavesTheVersionWhereItWas()
    {
        using var connection = OpenNew();
        connection.Execute(LegacyDatabase.Schema);
        connection.Execute(ChecklistV1);
        MigrationRunner.SetSchemaVersion(connection, 1);

        // An object version 2 creates already exists, so its script fails half-way through.
        connection.Execute("CREATE TABLE specs (spec_id TEXT PRIMARY KEY)");
        var before = SqliteFiles.Schema(connection);

        Assert.Throws<SqliteException>(() => Runner().MigrateToLatest(connection, "db"));

        Assert.Equal(1, MigrationRunner.GetSchemaVersion(connection));
        Assert.Equal(before, SqliteFiles.Schema(connection));
        Assert.DoesNotContain("spec_id", Columns(connection, "agent_outputs").Select(column => column.Name)); // the ALTERs before the failure are undone
        Assert.False(SqliteConnections.InTransaction(connection));
    }

    [Fact]
    public void MigrateRefusesADatabaseNewerThanTheApplication()
    {
        using var connection = OpenNew();
        MigrationRunner.SetSchemaVersion(connection, MigrationRunner.LatestVersion + 1);

        var error = Assert.Throws<DatabaseStartupException>(() => Runner().MigrateToLatest(connection, "future.db"));

        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
        Assert.Contains("future.db", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master"));
    }

    [Fact]
    public async Task DatabaseNewerThanTheApplicationIsRefusedAtStartupAndLeftByteForByteUntouched()
    {
        var path = _folder.File("newer.db");
        using (var writer = SqliteFiles.OpenRaw(path))
        {
            writer.Execute(LegacyDatabase.Schema);
            writer.Execute("INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('S', 'spec-plan', 'gemini', '{}')");
            writer.Execute($"PRAGMA user_version = {MigrationRunner.LatestVersion + 5}");
        }

        var hash = SqliteFiles.Sha256(path);
        using var meters = new TestMeterFactory();
        await using var database = SqliteFiles.Database(path, meters);

        var error = await Assert.ThrowsAsync<DatabaseStartupException>(() => database.OpenAsync(TestContext.Current.CancellationToken));

        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {MigrationRunner.LatestVersion + 5}", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.False(database.IsReady);
        Assert.Equal(hash, SqliteFiles.Sha256(path));
        Assert.False(File.Exists(path + "-wal"));
        Assert.False(File.Exists(path + "-journal"));
    }
}
