using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// Files the service must not serve, each given to a real process: it refuses to start with one
/// line naming the file and the problem, exits non-zero, and leaves the file as it was.
/// </summary>
public class BadFileTests(RealDatabaseFixture real) : IClassFixture<RealDatabaseFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Starts the service on <paramref name="path"/>, expects a refusal, and returns its one line.</summary>
    private static async Task<string> AssertRefusedAsync(string path, params string[] expected)
    {
        var folder = Path.GetDirectoryName(path)!;
        var workingDirectory = Directory.Exists(folder) ? folder : TestDatabase.NewFolder();
        await using var service = ServiceProcess.Start(workingDirectory, RunningService.Environment(path, null));

        var exitCode = await service.WaitForExitAsync(RunningService.StartTimeout, Ct);

        Assert.NotEqual(0, exitCode);
        var lines = service.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("ConsensusApi cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(path, line, StringComparison.Ordinal);
        foreach (var phrase in expected)
        {
            Assert.Contains(phrase, line, StringComparison.Ordinal);
        }

        return line;
    }

    /// <summary>The file's bytes, and the other files beside it, before the service saw it.</summary>
    private static (string Hash, string[] Beside) Snapshot(string path) => (DatabaseFile.Hash(path), Beside(path));

    /// <summary>
    /// The file is byte for byte what it was and nothing else appeared beside it, but for what any
    /// SQLite reader of a WAL-mode file creates: the -shm index and an empty -wal.
    /// </summary>
    private static void AssertUntouched(string path, (string Hash, string[] Beside) before)
    {
        Assert.Equal(before.Hash, DatabaseFile.Hash(path));
        Assert.Equal(before.Beside, Beside(path));
        Assert.True(!File.Exists(path + "-wal") || new FileInfo(path + "-wal").Length == 0, "nothing was written to a WAL");
    }

    private static string[] Beside(string path) => Directory.GetFiles(Path.GetDirectoryName(path)!)
        .Where(file => file != path && file != path + "-wal" && file != path + "-shm")
        .Order(StringComparer.Ordinal)
        .ToArray();

    [Fact]
    public async Task AFileThatIsNotADatabaseIsRefusedAndLeftUnmodified()
    {
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        await File.WriteAllTextAsync(path, string.Concat(Enumerable.Repeat("# Meeting notes\nNot a database at all.\n", 200)), Ct);
        var before = Snapshot(path);

        await AssertRefusedAsync(path, "is not a SQLite database");

        AssertUntouched(path, before);
    }

    [Fact]
    public async Task ATruncatedDatabaseIsRefusedAndLeftUnmodified()
    {
        var path = real.Copy();
        var length = new FileInfo(path).Length;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(length / 2);
        }

        var before = Snapshot(path);

        await AssertRefusedAsync(path, "is corrupt");

        AssertUntouched(path, before);
    }

    [Fact]
    public async Task ADatabaseWithBytesOverwrittenInThePageOfItsRowsIsRefusedAndLeftUnmodified()
    {
        var path = real.Copy();
        var page = Corrupt(path);
        var before = Snapshot(path);

        var line = await AssertRefusedAsync(path, "is corrupt");

        AssertUntouched(path, before);
        Assert.Contains(page.ToString(System.Globalization.CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADatabaseFromANewerVersionIsRefusedAndLeftUnmodified()
    {
        var path = real.Copy();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        var before = Snapshot(path);

        await AssertRefusedAsync(path, "schema version 99", "newer than this application's");

        AssertUntouched(path, before);
    }

    [Fact]
    public async Task APathUnderARegularFileIsRefused()
    {
        var folder = TestDatabase.NewFolder();
        var notAFolder = Path.Combine(folder, "data");
        await File.WriteAllTextAsync(notAFolder, "a regular file where the data folder should be", Ct);
        var path = Path.Combine(notAFolder, "consensus.db");

        await AssertRefusedAsync(path, "cannot be created");

        Assert.Equal("a regular file where the data folder should be", await File.ReadAllTextAsync(notAFolder, Ct));
    }

    [Fact]
    public async Task ADatabaseOnAReadOnlyFileSystemIsRefusedAndLeftUnmodified()
    {
        // The service's own file is in WAL mode: SQLite cannot even read it without creating its -shm.
        var path = real.Copy();
        var before = Snapshot(path);
        using var mount = Mount.ReadOnly(Path.GetDirectoryName(path)!);

        await AssertRefusedAsync(path, "SQLITE_CANTOPEN", "writable");

        AssertUntouched(path, before);
    }

    [Fact]
    public async Task ALegacyDatabaseOnAReadOnlyFileSystemIsRefusedAsReadOnlyAndLeftUnmodified()
    {
        // The terminal UI's file (rollback journal) can be read there, but not written.
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus_artifacts.db");
        LegacyDatabase.Create(path, connection =>
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('SPEC-1', 'spec-plan', 'gemini', '{}')";
            insert.ExecuteNonQuery();
        });
        var before = Snapshot(path);
        using var mount = Mount.ReadOnly(Path.GetDirectoryName(path)!);

        await AssertRefusedAsync(path, "is read-only", "left unmodified");

        AssertUntouched(path, before);
    }

    [Fact]
    public async Task ANewDatabaseInAReadOnlyFolderIsRefused()
    {
        var folder = TestDatabase.NewFolder();
        using var mount = Mount.ReadOnly(folder);
        var path = Path.Combine(folder, "consensus.db");

        await AssertRefusedAsync(path, "SQLITE_CANTOPEN", "writable");

        Assert.Empty(Directory.GetFiles(folder));
    }

    /// <summary>
    /// Overwrites 64 bytes in the middle of a page that holds rows (from the middle of the file on),
    /// choosing the first page where that damage is one SQLite's own checks can see: bytes changed
    /// inside a text value are data, and no check can tell them from what was written. Returns the
    /// page number (1-based).
    /// </summary>
    private static long Corrupt(string path)
    {
        var pristine = File.ReadAllBytes(path);
        const int pageSize = 4096;
        var pages = pristine.Length / pageSize;
        for (var page = pages / 2; page < pages; page++)
        {
            var damaged = (byte[])pristine.Clone();
            var random = new Random(page);
            for (var i = 0; i < 64; i++)
            {
                damaged[(page * pageSize) + (pageSize / 2) - 32 + i] = (byte)random.Next(256);
            }

            File.WriteAllBytes(path, damaged);
            using var connection = DatabaseFile.OpenReadOnly(path);
            if (DatabaseFile.Rows(connection, "PRAGMA quick_check") is not ["ok"])
            {
                return page + 1;
            }
        }

        throw new InvalidOperationException("No page of the template took damage that SQLite detects.");
    }
}
