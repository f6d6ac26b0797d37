using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class ConsensusDatabaseTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly TestMeterFactory _meters = new();

    public void Dispose()
    {
        _meters.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task StartupVerifiesAllEightPragmasOnAFreshFile()
    {
        await using var db = await TestDatabase.OpenAsync();

        Assert.True(db.Database.IsReady);
        Assert.Equal(
            new[] { "journal_mode", "synchronous", "foreign_keys", "cache_size", "temp_store", "auto_vacuum", "mmap_size", "busy_timeout" },
            db.Database.StartupPragmas.Select(check => check.Name));
        Assert.All(db.Database.StartupPragmas, check => Assert.True(check.Ok, $"{check.Name} is {check.Actual}, expected {check.Expected}"));
    }

    [Fact]
    public async Task OpenedPoolKeepsMinIdleConnectionsWarmForReadersBesideTheWriteLaneAndCheckpointer()
    {
        await using var db = await TestDatabase.OpenAsync(new Dictionary<string, string?>
        {
            ["Database:PoolSize"] = "10",
            ["Database:MinIdle"] = "4",
        });

        var statistics = db.Database.Pool.Statistics;

        Assert.Equal(10, statistics.Size);
        Assert.Equal(6, statistics.Open);
        Assert.Equal(2, statistics.InUse);
        Assert.Equal(4, statistics.Idle);
        Assert.Equal((0, 0, 0), (statistics.Waits, statistics.Timeouts, statistics.Replaced));
    }

    [Fact]
    public async Task OpeningTwiceIsHarmless()
    {
        await using var db = await TestDatabase.OpenAsync();
        var pool = db.Database.Pool;

        await db.Database.OpenAsync(TestContext.Current.CancellationToken);

        Assert.Same(pool, db.Database.Pool);
        Assert.Equal(2, pool.Statistics.InUse);
    }

    [Fact]
    public async Task MissingFoldersOfTheDatabasePathAreCreated()
    {
        var path = Path.Combine(_folder.Path, "data", "nested", "consensus.db");
        await using var database = SqliteFiles.Database(path, _meters);

        await database.OpenAsync(TestContext.Current.CancellationToken);

        Assert.True(database.IsReady);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task FileThatIsNotADatabaseIsRefusedWithAClearMessageAndLeftUnmodified()
    {
        var path = _folder.File("notes.db");
        var bytes = new byte[8192];
        new Random(945).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
        await using var database = SqliteFiles.Database(path, _meters);

        var error = await Assert.ThrowsAsync<DatabaseStartupException>(() => database.OpenAsync(TestContext.Current.CancellationToken));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("is not a SQLite database", error.Message, StringComparison.Ordinal);
        Assert.Contains("left unmodified", error.Message, StringComparison.Ordinal);
        Assert.False(database.IsReady);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        Assert.False(File.Exists(path + "-wal"));
        Assert.Throws<InvalidOperationException>(() => database.Pool);
    }

    [Fact]
    public async Task LegacyFileLeftWithAHotJournalByACrashedWriterIsRolledBackAndOpened()
    {
        var path = _folder.File("legacy.db");
        LegacyDatabase.Create(path, c => c.Execute(
            "INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, created_at) VALUES ('SPEC-A', 'spec-plan', 'gemini', '{}', '2026-01-02 03:04:05')"));
        var crashed = _folder.File("crashed.db");
        using (var terminalUi = SqliteFiles.OpenRaw(path))
        {
            // A small page cache spills the uncommitted rows into the file, so the journal is hot;
            // copying the file and its journal mid-transaction is what a killed writer leaves behind.
            terminalUi.Execute("PRAGMA cache_size = 1; BEGIN IMMEDIATE;");
            for (var i = 0; i < 500; i++)
            {
                terminalUi.Execute("INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('SPEC-A', 'spec-plan', 'lost', @content)", new { content = new string('x', 1000) });
            }

            File.Copy(path, crashed);
            File.Copy(path + "-journal", crashed + "-journal");
            terminalUi.Execute("ROLLBACK");
        }

        await using var database = SqliteFiles.Database(crashed, _meters);

        await database.OpenAsync(TestContext.Current.CancellationToken);

        Assert.True(database.IsReady);
        Assert.False(File.Exists(crashed + "-journal"));
        using var lease = await database.Pool.AcquireAsync(TestContext.Current.CancellationToken);
        Assert.Equal(new[] { "gemini" }, lease.Connection.Query<string>("SELECT agent_name FROM consensus_artifacts"));
        Assert.Equal(new[] { "gemini" }, lease.Connection.Query<string>("SELECT agent_name FROM agent_outputs"));
        Assert.Equal("ok", lease.Connection.ExecuteScalar<string>("PRAGMA integrity_check"));
    }

    [Fact]
    public async Task LegacyFileWithoutIncrementalAutoVacuumOpensAndSaysItNeedsAFullVacuum()
    {
        var path = _folder.File("legacy.db");
        LegacyDatabase.Create(path);
        var log = new CapturingLogger<ConsensusDatabase>();
        await using var database = SqliteFiles.Database(path, _meters, log);

        await database.OpenAsync(TestContext.Current.CancellationToken);

        Assert.True(database.IsReady);
        var autoVacuum = Assert.Single(database.StartupPragmas, check => !check.Ok);
        Assert.Equal("auto_vacuum", autoVacuum.Name);
        var warning = Assert.Single(log.Entries, entry => entry.EventId.Id == 1005);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("VACUUM", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeClosesEveryConnectionAndTheDatabaseIsNoLongerServed()
    {
        await using var db = await TestDatabase.OpenAsync();
        var pool = db.Database.Pool;

        await db.Database.DisposeAsync();

        Assert.False(db.Database.IsReady);
        Assert.Equal(0, pool.Statistics.Open);
        Assert.Throws<InvalidOperationException>(() => db.Database.Pool);
        Assert.Throws<InvalidOperationException>(() => db.Database.Writes);
    }
}
