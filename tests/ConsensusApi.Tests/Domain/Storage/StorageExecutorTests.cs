using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Tests.Domain.Storage;

/// <summary>
/// The retry pipeline around real storage: a lock held by another process on the same file
/// (as the terminal UI or a backup tool would) makes the write lane's BEGIN IMMEDIATE busy.
/// These tests run on real time, because SQLite's busy wait does.
/// </summary>
public sealed class StorageExecutorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Signals when the pipeline schedules its first retry (event 3100), so a test can react to it instead of sleeping.</summary>
    private sealed class RetrySignal : ILogger<StoragePipeline>
    {
        private readonly TaskCompletionSource _retryScheduled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task RetryScheduled => _retryScheduled.Task;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 3100)
            {
                _retryScheduled.TrySetResult();
            }
        }
    }

    private static Task<TestDatabase> OpenAsync(int maxAttempts, RetrySignal? signal = null) => TestDatabase.OpenAsync(
        new Dictionary<string, string?>
        {
            ["Database:BusyTimeoutMs"] = "50",
            ["Retry:InitialBackoffMs"] = "20",
            ["Retry:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        configure: signal is null ? null : services => services.AddSingleton<ILogger<StoragePipeline>>(signal));

    /// <summary>Another process's connection holding the write lock of the file.</summary>
    private static SqliteConnection HoldWriteLock(string path)
    {
        var holder = SqliteFiles.OpenRaw(path);
        holder.Execute("BEGIN EXCLUSIVE");
        holder.Execute("INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('HOLDER', 'spec-plan', 'ui', '{}')");
        return holder;
    }

    [Fact]
    public async Task WriteBlockedByAnotherProcessesLockRecoversThroughRetryOnceTheLockIsReleased()
    {
        var signal = new RetrySignal();
        await using var db = await OpenAsync(maxAttempts: 5, signal);
        using var holder = HoldWriteLock(db.Path);

        // The other process commits as soon as the first attempt has failed busy and a retry is scheduled.
        var release = Task.Run(async () =>
        {
            await signal.RetryScheduled.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            holder.Execute("COMMIT");
        }, Ct);
        var stored = await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(agent: "gemini"), key: null, Ct);
        await release;

        var retries = db.Get<RetryTelemetry>().Snapshot();
        Assert.True(retries.RetriedOperations >= 1, $"retried operations: {retries.RetriedOperations}");
        Assert.True(retries.Attempts >= 1);
        Assert.Equal(1, retries.Recovered);
        Assert.Equal(0, retries.Exhausted);
        Assert.True(stored.Created);
        var read = await db.Get<ArtifactRepository>().GetAsync(stored.Value.Id, Ct);
        Assert.Equal("gemini", read.AgentName);
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(2L, SqliteFiles.Count(reader, "consensus_artifacts")); // the other process's row and ours
        Assert.Equal(1L, SqliteFiles.Count(reader, "agent_outputs"));
        Assert.Equal(new DualWriteSnapshot(1, 1, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }

    [Fact]
    public async Task LockHeldPastEveryRetryEndsInStorageUnavailableWithRetryAfterAndWritesNothing()
    {
        await using var db = await OpenAsync(maxAttempts: 2);
        StorageUnavailableException error;
        using (var holder = HoldWriteLock(db.Path))
        {
            error = await Assert.ThrowsAsync<StorageUnavailableException>(async () =>
                await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(), key: null, Ct));
            holder.Execute("ROLLBACK");
        }

        Assert.True(error.RetryAfter > TimeSpan.Zero, $"RetryAfter was {error.RetryAfter}");
        var busy = Assert.IsType<SqliteException>(error.InnerException);
        Assert.Equal(ErrorClassifier.SqliteBusy, busy.SqliteErrorCode & 0xFF);
        var retries = db.Get<RetryTelemetry>().Snapshot();
        Assert.Equal((1L, 1L, 1L, 0L), (retries.Exhausted, retries.RetriedOperations, retries.Attempts, retries.Recovered));
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(0L, SqliteFiles.Count(reader, "consensus_artifacts"));
        Assert.Equal(0L, SqliteFiles.Count(reader, "agent_outputs"));
        Assert.Equal(0L, SqliteFiles.Count(reader, "consensus_runs"));
        Assert.Equal(new DualWriteSnapshot(0, 0, 0), db.Get<DualWriteTelemetry>().Snapshot());

        // Once the other process is gone, the same write succeeds on the first try.
        var stored = await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(), key: null, Ct);
        Assert.True(stored.Created);
        Assert.Equal(1L, db.Get<RetryTelemetry>().Snapshot().Attempts);
    }

    [Fact]
    public async Task InvalidRequestIsNotRetriedAndWritesNothing()
    {
        await using var db = await OpenAsync(maxAttempts: 3);

        await Assert.ThrowsAsync<DomainValidationException>(async () =>
            await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact() with { Stage = "Not A Stage" }, key: null, Ct));

        var retries = db.Get<RetryTelemetry>().Snapshot();
        Assert.Equal((0L, 0L), (retries.Attempts, retries.RetriedOperations));
        Assert.Equal(0L, SqliteFiles.Count(db.Path, "consensus_artifacts"));
    }

    [Fact]
    public async Task PermanentDatabaseErrorInsideAWriteRunsOnceAndIsNotRetried()
    {
        await using var db = await OpenAsync(maxAttempts: 3);
        var executor = db.Get<StorageExecutor>();
        var calls = 0;

        var error = await Assert.ThrowsAsync<SqliteException>(async () => await executor.WriteAsync("test_constraint", (connection, _) =>
        {
            Interlocked.Increment(ref calls);
            connection.Execute("INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('S', 'spec-plan', 'a', '{}')");
            return connection.Execute("INSERT INTO consensus_runs (spec_id, stage, run_timestamp, consensus_ok) VALUES (NULL, 'spec-plan', 1, 0)");
        }, Ct));

        Assert.Equal(ErrorClassifier.SqliteConstraint, error.SqliteErrorCode & 0xFF);
        Assert.Equal(1, calls);
        var retries = db.Get<RetryTelemetry>().Snapshot();
        // Opening the database is an operation of its own.
        Assert.Equal((2L, 0L, 0L), (retries.Operations, retries.Attempts, retries.RetriedOperations));
        Assert.Equal(0L, SqliteFiles.Count(db.Path, "consensus_artifacts"));
    }

    [Fact]
    public async Task ConflictingIdempotencyKeyIsNotRetried()
    {
        await using var db = await OpenAsync(maxAttempts: 3);
        var repository = db.Get<ArtifactRepository>();
        await repository.StoreAsync(SqliteFiles.Artifact(n: 1), new IdempotencyKey("k", "first"), Ct);

        await Assert.ThrowsAsync<ConflictException>(async () => await repository.StoreAsync(SqliteFiles.Artifact(n: 2), new IdempotencyKey("k", "second"), Ct));

        var retries = db.Get<RetryTelemetry>().Snapshot();
        Assert.Equal((3L, 0L), (retries.Operations, retries.Attempts)); // open, store, conflicting store
    }

    [Fact]
    public async Task ReadsOnThePoolAreNotBlockedByAnotherProcessesWriteLock()
    {
        await using var db = await OpenAsync(maxAttempts: 1);
        var stored = await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(), key: null, Ct);
        using var holder = HoldWriteLock(db.Path);

        var read = await db.Get<ArtifactRepository>().GetAsync(stored.Value.Id, Ct);

        Assert.Equal(stored.Value.Id, read.Id);
        Assert.Equal(0L, db.Get<RetryTelemetry>().Snapshot().Attempts);
        holder.Execute("ROLLBACK");
    }
}
