using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class PragmasTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static List<PragmaCheck> AllOk() =>
    [
        new("journal_mode", "wal", "wal", true),
        new("synchronous", "1 (NORMAL)", "1", true),
        new("foreign_keys", "1 (ON)", "1", true),
        new("cache_size", "-32000", "-32000", true),
        new("temp_store", "2 (MEMORY)", "2", true),
        new("auto_vacuum", "2 (INCREMENTAL)", "2", true),
        new("mmap_size", "67108864", "67108864", true),
        new("busy_timeout", "5000", "5000", true),
    ];

    [Fact]
    public void AllEightPragmasTakeOnANewFile()
    {
        var path = _folder.File("new.db");
        var options = SqliteFiles.Options(path);
        using var connection = SqliteConnections.Open(path, options);

        var checks = Pragmas.Check(connection, options);

        Assert.Equal(8, checks.Count);
        Assert.All(checks, check => Assert.True(check.Ok, $"{check.Name} is {check.Actual}, expected {check.Expected}"));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["journal_mode"] = "wal",
                ["synchronous"] = "1",
                ["foreign_keys"] = "1",
                ["cache_size"] = "-32000",
                ["temp_store"] = "2",
                ["auto_vacuum"] = "2",
                ["mmap_size"] = "67108864",
                ["busy_timeout"] = "5000",
            },
            checks.ToDictionary(check => check.Name, check => check.Actual));
        Assert.Equal(256L << 20, connection.ExecuteScalar<long>("PRAGMA journal_size_limit"));
    }

    [Fact]
    public void CheckReportsAPragmaChangedAfterItWasApplied()
    {
        var path = _folder.File("changed.db");
        var options = SqliteFiles.Options(path);
        using var connection = SqliteConnections.Open(path, options);
        connection.Execute("PRAGMA foreign_keys = OFF");

        var checks = Pragmas.Check(connection, options);

        var foreignKeys = Assert.Single(checks, check => !check.Ok);
        Assert.Equal(new PragmaCheck("foreign_keys", "1 (ON)", "0", false), foreignKeys);
        var error = Assert.Throws<DatabaseStartupException>(() => Pragmas.Verify(checks, path));
        Assert.Contains("PRAGMA foreign_keys is 0, expected 1 (ON)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyThrowsNamingThePragmaThatDidNotTake()
    {
        var checks = AllOk();
        checks[0] = new PragmaCheck("journal_mode", "wal", "delete", false);

        var error = Assert.Throws<DatabaseStartupException>(() => Pragmas.Verify(checks, "/data/consensus.db"));

        Assert.Contains("/data/consensus.db", error.Message, StringComparison.Ordinal);
        Assert.Contains("PRAGMA journal_mode is delete, expected wal", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("foreign_keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyNamesEveryRequiredPragmaThatDidNotTake()
    {
        var checks = AllOk();
        checks[2] = new PragmaCheck("foreign_keys", "1 (ON)", "0", false);
        checks[7] = new PragmaCheck("busy_timeout", "5000", "0", false);

        var error = Assert.Throws<DatabaseStartupException>(() => Pragmas.Verify(checks, "db"));

        Assert.Contains("PRAGMA foreign_keys is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("PRAGMA busy_timeout is 0", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("journal_mode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyAcceptsWhenEveryPragmaTook()
    {
        var exception = Record.Exception(() => Pragmas.Verify(AllOk(), "db"));

        Assert.Null(exception);
    }

    [Fact]
    public void VerifyToleratesAutoVacuumOffBecauseSwitchingNeedsAFullVacuum()
    {
        var checks = AllOk();
        checks[5] = new PragmaCheck("auto_vacuum", "2 (INCREMENTAL)", "0", false);

        var exception = Record.Exception(() => Pragmas.Verify(checks, "db"));

        Assert.Null(exception);
    }

    [Fact]
    public void AutoVacuumDoesNotTakeOnAFileThatAlreadyHasTables()
    {
        var path = _folder.File("legacy.db");
        LegacyDatabase.Create(path);
        var options = SqliteFiles.Options(path);
        using var connection = SqliteConnections.Open(path, options);

        var checks = Pragmas.Check(connection, options);

        var autoVacuum = Assert.Single(checks, check => !check.Ok);
        Assert.Equal(("auto_vacuum", "0"), (autoVacuum.Name, autoVacuum.Actual));
        Assert.Equal("wal", checks.Single(check => check.Name == "journal_mode").Actual);
    }
}
