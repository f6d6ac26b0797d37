using System.Globalization;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Storage.Migrations;
using ConsensusApi.Domain.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// The database file and everything that holds it open: the connection pool, the write lane,
/// the start-up checks and the migrations. <see cref="OpenAsync"/> runs once at start-up;
/// disposing finishes queued writes, checkpoints the WAL and closes every connection.
/// </summary>
public sealed class ConsensusDatabase : IAsyncDisposable
{
    /// <summary>SQLITE_READONLY_ROLLBACK: a read-only connection met a hot journal it cannot roll back.</summary>
    private const int SqliteReadOnlyRollback = 776;

    private readonly DatabaseOptions _options;
    private readonly ConsensusMetrics _metrics;
    private readonly ILogger<ConsensusDatabase> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly StoragePipeline _pipeline;
    private SqliteConnectionPool? _pool;
    private WriteLane? _writes;

    /// <summary>Creates the (not yet opened) database.</summary>
    public ConsensusDatabase(
        IOptions<DatabaseOptions> options, ConsensusMetrics metrics, ILogger<ConsensusDatabase> logger, TimeProvider timeProvider, StoragePipeline pipeline)
    {
        _pipeline = pipeline;
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        Path = System.IO.Path.GetFullPath(_options.Path);
    }

    /// <summary>Full path of the database file.</summary>
    public string Path { get; }

    /// <summary>True once opened, verified and migrated, until disposed.</summary>
    public bool IsReady { get; private set; }

    /// <summary>The pragma values read back at start-up.</summary>
    public IReadOnlyList<PragmaCheck> StartupPragmas { get; private set; } = [];

    /// <summary>The read connections.</summary>
    public SqliteConnectionPool Pool => _pool ?? throw NotOpen();

    /// <summary>The single write path.</summary>
    public WriteLane Writes => _writes ?? throw NotOpen();

    /// <summary>The options in force.</summary>
    public DatabaseOptions Options => _options;

    /// <summary>
    /// Checks the file, opens the pool, verifies the pragmas, migrates to the latest schema,
    /// backfills legacy rows and starts the write lane.
    /// </summary>
    /// <exception cref="DatabaseStartupException">The file cannot be served; the message names it and says why.</exception>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (IsReady)
        {
            return;
        }

        PrepareFolder();
        if (File.Exists(Path))
        {
            InspectExistingFile();
        }

        try
        {
            _pool = new SqliteConnectionPool(Path, _options, _metrics, _logger, _timeProvider);
            _pool.Warm(Math.Min(_options.MinIdle, _options.PoolSize));
            // Another process (the terminal UI, a backup tool) may hold the lock: migrate under retry.
            await _pipeline.ExecuteAsync("open_database", async token =>
            {
                using var lease = await _pool.AcquireAsync(token);
                var connection = lease.Connection;
                StartupPragmas = Pragmas.Check(connection, _options);
                Pragmas.Verify(StartupPragmas, Path);
                if (StartupPragmas.First(check => check.Name == "auto_vacuum") is { Ok: false } autoVacuum)
                {
                    StorageLog.AutoVacuumOff(_logger, Path, autoVacuum.Actual);
                }

                new MigrationRunner(_logger, _timeProvider).MigrateToLatest(connection, Path);
                var (artifacts, syntheses) = SqliteTransactions.Run(connection, TransactionKind.Immediate, (c, _) => LegacyBackfill.Run(c), token);
                if (artifacts + syntheses > 0)
                {
                    StorageLog.Backfilled(_logger, artifacts, syntheses);
                }

                StorageLog.DatabaseOpened(_logger, Path, MigrationRunner.GetSchemaVersion(connection), _options.PoolSize);
                return true;
            }, cancellationToken);

            _writes = new WriteLane(_pool, _options, _metrics, _logger);
            await _writes.StartAsync(cancellationToken);

            // The lane and its checkpointer keep their connections; MinIdle stay warm for readers.
            _pool.Warm(Math.Min(_options.MinIdle, _options.PoolSize - _pool.Statistics.InUse));
            IsReady = true;
        }
        catch (SqliteException ex)
        {
            await CloseAsync();
            throw Describe(ex);
        }
        catch (StorageUnavailableException ex)
        {
            await CloseAsync();
            throw new DatabaseStartupException($"Database '{Path}' stayed locked by another process through every retry; stop the other writer or try again.", ex);
        }
        catch (StorageFullException ex)
        {
            await CloseAsync();
            throw new DatabaseStartupException($"Database '{Path}': the disk is full (SQLITE_FULL).", ex);
        }
        catch
        {
            await CloseAsync();
            throw;
        }
    }

    /// <summary>Finishes queued writes, checkpoints the WAL and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        var wasReady = IsReady;
        await CloseAsync();
        if (wasReady)
        {
            StorageLog.DatabaseClosed(_logger, Path);
        }
    }

    private async ValueTask CloseAsync()
    {
        IsReady = false;
        // The host's stop and the container's disposal may both close; each part is closed once.
        if (Interlocked.Exchange(ref _writes, null) is { } writes)
        {
            await writes.DisposeAsync();
        }

        Interlocked.Exchange(ref _pool, null)?.Dispose();
    }

    private void PrepareFolder()
    {
        try
        {
            var folder = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DatabaseStartupException($"Database '{Path}': its folder cannot be created ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// Reads an existing file without changing a byte (unless a crashed writer's hot journal must
    /// be rolled back first): is it a database, are its pages sound, is it not too new, may the
    /// service write it?
    /// </summary>
    private void InspectExistingFile()
    {
        int version;
        try
        {
            version = Inspect(SqliteConnections.OpenReadOnly(Path));
        }
        catch (SqliteException ex) when (ex.SqliteExtendedErrorCode == SqliteReadOnlyRollback)
        {
            // A writer died mid-transaction (the terminal UI uses a rollback journal) and left a hot
            // journal, which only a read-write connection can roll back. Let SQLite do so, as any of
            // its clients does on the next open; that restores the last committed state.
            try
            {
                version = Inspect(SqliteConnections.OpenExisting(Path));
            }
            catch (SqliteException inner)
            {
                throw Describe(inner);
            }
        }
        catch (SqliteException ex)
        {
            throw Describe(ex);
        }

        MigrationRunner.EnsureNotNewer(version, Path);
        EnsureWritable();
        if (version < MigrationRunner.LatestVersion)
        {
            BackUpBeforeMigrating(version);
        }
    }

    /// <summary>
    /// Copies a file that is about to be migrated to <c>&lt;file&gt;.v&lt;old version&gt;-&lt;UTC time&gt;.bak</c>
    /// beside it, before anything writes it: one read transaction's consistent snapshot
    /// (<c>VACUUM INTO</c>), compact, self-contained. An empty file has nothing to keep.
    /// </summary>
    private void BackUpBeforeMigrating(int version)
    {
        var stem = string.Create(CultureInfo.InvariantCulture, $"{Path}.v{version}-{_timeProvider.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}");
        var target = stem + ".bak";
        for (var n = 2; File.Exists(target); n++)
        {
            target = string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}.bak");
        }

        try
        {
            using var connection = SqliteConnections.OpenReadOnly(Path);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master";
            if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
            {
                return;
            }

            command.CommandText = "VACUUM INTO $target";
            command.Parameters.AddWithValue("$target", target);
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            File.Delete(target);
            throw new DatabaseStartupException(
                $"Database '{Path}' has schema version {version}; the backup before migrating it to version {MigrationRunner.LatestVersion} could not be written to '{target}' ({ex.Message}); nothing was migrated.", ex);
        }

        StorageLog.BackedUpBeforeMigrating(_logger, Path, version, target, new FileInfo(target).Length);
    }

    /// <summary>
    /// Checks every page's structure (<c>PRAGMA quick_check</c>, linear in the file's size) before
    /// anything writes: opening a damaged file read-write would already rewrite its header, and
    /// a damaged page is otherwise only found when a request happens to read it.
    /// </summary>
    private int Inspect(SqliteConnection opened)
    {
        using var connection = opened;
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA quick_check(3)";
        var problems = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                problems.Add(reader.GetString(0));
            }
        }

        if (problems is not ["ok"])
        {
            throw new DatabaseStartupException(
                $"Database '{Path}' is corrupt (PRAGMA quick_check: {string.Join("; ", problems).ReplaceLineEndings(" ")}); it was left unmodified. Restore it from a backup.");
        }

        return MigrationRunner.GetSchemaVersion(connection);
    }

    /// <summary>
    /// SQLite opens a file it may not write (a read-only file system, a file without write
    /// permission) read-only without an error; the pragmas would then fail to take for no
    /// visible reason. Say what it is instead.
    /// </summary>
    private void EnsureWritable()
    {
        bool readOnly;
        try
        {
            using var connection = SqliteConnections.OpenExisting(Path);
            readOnly = SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1;
        }
        catch (SqliteException ex)
        {
            throw Describe(ex);
        }

        if (readOnly)
        {
            throw new DatabaseStartupException(
                $"Database '{Path}' is read-only (its file or file system does not allow writing): the service needs to write it and its -wal and -shm files; it was left unmodified.");
        }
    }

    private DatabaseStartupException Describe(SqliteException ex) => new(
        (ex.SqliteErrorCode & 0xFF) switch
        {
            26 => $"Database '{Path}' is not a SQLite database (SQLITE_NOTADB); it was left unmodified.",
            11 => $"Database '{Path}' is corrupt (SQLITE_CORRUPT): {ex.Message}",
            8 => $"Database '{Path}' is read-only (SQLITE_READONLY): the service needs to write it and its -wal and -shm files.",
            14 => $"Database '{Path}' cannot be opened (SQLITE_CANTOPEN): check that the path and its folder are writable.",
            13 => $"Database '{Path}': the disk is full (SQLITE_FULL).",
            _ => $"Database '{Path}' cannot be opened: {ex.Message}",
        },
        ex);

    private static InvalidOperationException NotOpen() => new("The database has not been opened.");
}
