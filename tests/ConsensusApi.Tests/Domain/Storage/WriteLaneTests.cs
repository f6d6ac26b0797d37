using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Telemetry;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class WriteLaneTests
{
    private static readonly long Now = DateTimeOffset.Parse("2026-02-03T04:05:06Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Occupies the writer thread until released, so that units enqueued meanwhile queue up and
    /// run together in the lane's next transaction.
    /// </summary>
    private sealed class Blocker : IDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Blocker(WriteLane lane) =>
            Running = lane.ExecuteAsync((_, _) =>
            {
                _started.SetResult();
                if (!_gate.Wait(TimeSpan.FromSeconds(10), CancellationToken.None))
                {
                    throw new TimeoutException("the test never released the write lane");
                }

                return 0;
            }, CancellationToken.None);

        public Task<int> Running { get; }

        public static async Task<Blocker> StartAsync(WriteLane lane)
        {
            var blocker = new Blocker(lane);
            await blocker._started.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            return blocker;
        }

        public async Task ReleaseAsync()
        {
            _gate.Set();
            await Running;
        }

        public void Dispose()
        {
            _gate.Set();
            _gate.Dispose();
        }
    }

    /// <summary>Records the write lane's batch sizes of one database.</summary>
    private sealed class BatchSizes : IDisposable
    {
        private readonly MeterListener _listener = new();

        public BatchSizes(TestDatabase db)
        {
            var meter = db.Get<ConsensusMetrics>().Meter;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == meter && instrument.Name == "consensus.write_lane.batch_size")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => Values.Enqueue(value));
            _listener.Start();
        }

        public ConcurrentQueue<double> Values { get; } = new();

        public void Dispose() => _listener.Dispose();
    }

    private static List<string> Agents(SqliteConnection connection, string table) =>
        connection.Query<string>($"SELECT agent_name FROM {table} ORDER BY agent_name").ToList();

    [Fact]
    public async Task HundredConcurrentWritersAllCommitWithoutDeadlockInBothSchemas()
    {
        await using var db = await TestDatabase.OpenAsync();
        var repository = db.Get<ArtifactRepository>();

        var writes = Enumerable.Range(0, 100)
            .Select(n => Task.Run(async () => await repository.StoreAsync(
                SqliteFiles.Artifact(specId: $"SPEC-{n % 3}", agent: $"agent-{n % 5}", n: n), key: null, Ct), Ct))
            .ToList();
        var outcomes = await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        var ids = outcomes.Select(outcome => outcome.Value.Id).ToHashSet();
        Assert.Equal(100, ids.Count);
        using var lease = await db.Database.Pool.AcquireAsync(Ct);
        Assert.Equal(ids, lease.Connection.Query<long>("SELECT id FROM consensus_artifacts").ToHashSet());
        Assert.Equal(ids, lease.Connection.Query<long>("SELECT id FROM agent_outputs").ToHashSet());
        Assert.Equal(0, db.Database.Pool.Statistics.Timeouts);
    }

    [Fact]
    public async Task GroupCommitKeepsEachUnitAllOrNothing()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        using var batches = new BatchSizes(db);
        using var blocker = await Blocker.StartAsync(lane);

        // Every third unit throws after writing its artifact; every fifth breaks a constraint after writing it.
        var units = Enumerable.Range(0, 20).Select(i => lane.ExecuteAsync((connection, _) =>
        {
            var artifact = ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: $"unit-{i:D2}", n: i), Now, []);
            if (i % 3 == 0)
            {
                throw new InvalidOperationException($"unit {i} failed after writing");
            }

            if (i % 5 == 0)
            {
                connection.Execute("INSERT INTO consensus_runs (spec_id, stage, run_timestamp, consensus_ok) VALUES (NULL, 'spec-plan', 1, 0)");
            }

            return artifact.Id;
        }, Ct)).ToList();
        Assert.All(units, unit => Assert.False(unit.IsCompleted));
        await blocker.ReleaseAsync();
        await Task.WhenAny(Task.WhenAll(units)).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var failing = Enumerable.Range(0, 20).Where(i => i % 3 == 0 || i % 5 == 0).ToHashSet();
        foreach (var i in Enumerable.Range(0, 20))
        {
            if (i % 3 == 0)
            {
                var error = await Assert.ThrowsAsync<InvalidOperationException>(() => units[i]);
                Assert.Equal($"unit {i} failed after writing", error.Message);
            }
            else if (i % 5 == 0)
            {
                await Assert.ThrowsAsync<SqliteException>(() => units[i]);
            }
            else
            {
                Assert.True(await units[i] > 0);
            }
        }

        var committed = Enumerable.Range(0, 20).Where(i => !failing.Contains(i)).Select(i => $"unit-{i:D2}").ToList();
        using var lease = await db.Database.Pool.AcquireAsync(Ct);
        Assert.Equal(committed, Agents(lease.Connection, "consensus_artifacts"));
        Assert.Equal(committed, Agents(lease.Connection, "agent_outputs"));
        Assert.Equal(1L, SqliteFiles.Count(lease.Connection, "consensus_runs"));
        Assert.Contains(20.0, batches.Values); // all twenty shared one transaction
    }

    [Theory]
    [InlineData(-1, 8)] // no unit fails: each runs once
    [InlineData(3, 12)] // unit 3 fails: units 0-3 ran before the rollback, then all eight run again with savepoints
    public async Task GroupRunsWithoutSavepointsUntilAUnitFailsAndThenAgainWithOne(int failingUnit, int expectedRuns)
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        using var batches = new BatchSizes(db);
        var runs = 0;
        using var blocker = await Blocker.StartAsync(lane);

        var units = Enumerable.Range(0, 8).Select(i => lane.ExecuteAsync((connection, _) =>
        {
            Interlocked.Increment(ref runs);
            var artifact = ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: $"unit-{i}", n: i), Now, []);
            return i == failingUnit ? throw new InvalidOperationException($"unit {i} failed after writing") : artifact.Id;
        }, Ct)).ToList();
        await blocker.ReleaseAsync();
        await Task.WhenAny(Task.WhenAll(units)).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var committed = Enumerable.Range(0, 8).Where(i => i != failingUnit).Select(i => $"unit-{i}").ToList();
        foreach (var i in Enumerable.Range(0, 8))
        {
            if (i == failingUnit)
            {
                await Assert.ThrowsAsync<InvalidOperationException>(() => units[i]);
            }
            else
            {
                Assert.True(await units[i] > 0);
            }
        }

        Assert.Equal(expectedRuns, runs);
        Assert.Contains(8.0, batches.Values); // one shared transaction committed all eight
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(committed, Agents(reader, "consensus_artifacts"));
        Assert.Equal(committed, Agents(reader, "agent_outputs"));
    }

    [Fact]
    public async Task WhenTheSharedCommitFailsEachUnitIsRerunAloneAndGetsItsOwnOutcome()
    {
        var log = new CapturingLogger<ConsensusDatabase>();
        await using var db = await TestDatabase.OpenAsync(configure: services =>
            services.AddSingleton<ILogger<ConsensusDatabase>>(log));
        var lane = db.Database.Writes;

        // A deferred foreign key is only checked at COMMIT, so one bad unit makes the shared COMMIT fail.
        await lane.ExecuteAloneAsync((c, _) => c.Execute(
            "CREATE TABLE run_notes (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES consensus_runs(id) DEFERRABLE INITIALLY DEFERRED)"), Ct);
        var runs = 0;
        using var blocker = await Blocker.StartAsync(lane);
        var units = Enumerable.Range(0, 6).Select(i => lane.ExecuteAsync((connection, _) =>
        {
            Interlocked.Increment(ref runs);
            var artifact = ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: $"unit-{i}", n: i), Now, []);
            if (i == 2)
            {
                connection.Execute("INSERT INTO run_notes (run_id) VALUES (999999)");
            }

            return artifact.Id;
        }, Ct)).ToList();
        await blocker.ReleaseAsync();
        await Task.WhenAny(Task.WhenAll(units)).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var error = await Assert.ThrowsAsync<SqliteException>(() => units[2]);
        Assert.Equal(19, error.SqliteErrorCode & 0xFF); // FOREIGN KEY constraint failed, at its own COMMIT
        foreach (var i in new[] { 0, 1, 3, 4, 5 })
        {
            Assert.True(await units[i] > 0);
        }

        Assert.Equal(12, runs); // six in the failed shared transaction, six again alone
        Assert.Contains(log.Entries, entry => entry.EventId.Id == 1007);
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(new[] { "unit-0", "unit-1", "unit-3", "unit-4", "unit-5" }, Agents(reader, "consensus_artifacts"));
        Assert.Equal(new[] { "unit-0", "unit-1", "unit-3", "unit-4", "unit-5" }, Agents(reader, "agent_outputs"));
        Assert.Equal(0L, SqliteFiles.Count(reader, "run_notes"));
    }

    [Fact]
    public async Task UnitThatMakesSqliteRollBackTheWholeSharedTransactionFailsAloneAndTheOthersCommit()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        using var blocker = await Blocker.StartAsync(lane);

        // INSERT OR ROLLBACK undoes the whole transaction, not only the unit's savepoint.
        var units = Enumerable.Range(0, 5).Select(i => lane.ExecuteAsync((connection, _) =>
        {
            var artifact = ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: $"unit-{i}", n: i), Now, []);
            if (i == 1)
            {
                connection.Execute("INSERT OR ROLLBACK INTO agent_outputs (id, run_id, agent_name, content, output_timestamp) SELECT id, run_id, agent_name, content, output_timestamp FROM agent_outputs WHERE id = @Id", artifact);
            }

            return artifact.Id;
        }, Ct)).ToList();
        await blocker.ReleaseAsync();
        await Task.WhenAny(Task.WhenAll(units)).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        await Assert.ThrowsAsync<SqliteException>(() => units[1]);
        foreach (var i in new[] { 0, 2, 3, 4 })
        {
            Assert.True(await units[i] > 0);
        }

        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(new[] { "unit-0", "unit-2", "unit-3", "unit-4" }, Agents(reader, "consensus_artifacts"));
        Assert.Equal(new[] { "unit-0", "unit-2", "unit-3", "unit-4" }, Agents(reader, "agent_outputs"));
        Assert.False(await lane.ExecuteAloneAsync((connection, _) => SqliteConnections.InTransaction(connection), Ct));
    }

    [Fact]
    public async Task WalLargerThanTheThresholdIsCheckpointedAfterTheBatch()
    {
        var log = new CapturingLogger<ConsensusDatabase>();
        await using var db = await TestDatabase.OpenAsync(
            new Dictionary<string, string?> { ["Database:WalCheckpointThresholdBytes"] = "1" },
            configure: services => services.AddSingleton<ILogger<ConsensusDatabase>>(log));
        var lane = db.Database.Writes;

        await lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(), Now, []).Id, Ct);

        // Runs on the writer thread after the batch and its checkpoint.
        var walBytes = await lane.ExecuteAloneAsync((_, _) => new FileInfo(db.Path + "-wal").Length, Ct);
        Assert.Equal(0, walBytes);
        Assert.Contains(log.Entries, entry => entry.EventId.Id == 1008);
        Assert.Equal(1L, SqliteFiles.Count(db.Path, "agent_outputs"));
    }

    [Fact]
    public async Task LaneReplacesItsConnectionWhenItWasClosedUnderneathIt()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        SqliteConnection? first = null;

        await Assert.ThrowsAnyAsync<Exception>(() => lane.ExecuteAsync((connection, _) =>
        {
            first = connection;
            ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: "lost"), Now, []);
            connection.Close();
            return 0;
        }, Ct));
        var (second, id) = await lane.ExecuteAsync((connection, _) => (connection, ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: "kept"), Now, []).Id), Ct);

        Assert.NotSame(first, second);
        Assert.Equal(System.Data.ConnectionState.Open, second.State);
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(new[] { "kept" }, Agents(reader, "consensus_artifacts"));
        Assert.Equal(id, reader.ExecuteScalar<long>("SELECT id FROM agent_outputs"));
    }

    [Fact]
    public async Task LaneThatCannotGetAReplacementConnectionFailsTheUnitAndRecoversOnceOneIsFree()
    {
        await using var db = await TestDatabase.OpenAsync(new Dictionary<string, string?>
        {
            ["Database:PoolSize"] = "2",
            ["Database:WalRestartFrames"] = "0",
            ["Database:AcquireTimeoutMs"] = "2000",
        });
        var lane = db.Database.Writes;
        var pool = db.Database.Pool;
        var reader = await pool.AcquireAsync(Ct); // the pool is full: the lane's connection and this one
        using var gate = new ManualResetEventSlim();
        var broken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The lane's connection breaks; while it is being returned, a reader is already waiting for it.
        var breaking = lane.ExecuteAsync<int>((connection, _) =>
        {
            connection.Close();
            broken.SetResult();
            gate.Wait(TimeSpan.FromSeconds(10), CancellationToken.None);
            throw new InvalidOperationException("connection lost");
        }, Ct);
        await broken.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var waiting = pool.AcquireAsync(Ct).AsTask();
        Assert.Equal(1, pool.Statistics.Waits);
        var starved = lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: "starved"), Now, []).Id, Ct);
        gate.Set();

        await Assert.ThrowsAsync<InvalidOperationException>(() => breaking);
        using var waiter = await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await Assert.ThrowsAsync<TimeoutException>(() => starved.WaitAsync(TimeSpan.FromSeconds(10), Ct));

        // Once a connection is free again, the lane takes it and writes.
        reader.Dispose();
        var id = await lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: "recovered"), Now, []).Id, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        using var check = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(new[] { "recovered" }, Agents(check, "agent_outputs"));
        Assert.Equal(id, check.ExecuteScalar<long>("SELECT id FROM consensus_artifacts"));
    }

    [Fact]
    public async Task LaneKeepsWorkingAfterAFailedUnit()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;

        await Assert.ThrowsAsync<InvalidOperationException>(() => lane.ExecuteAsync<int>((_, _) => throw new InvalidOperationException("boom"), Ct));
        var id = await lane.ExecuteAsync((connection, _) => ArtifactRepository.Insert(connection, SqliteFiles.Artifact(), Now, []).Id, Ct);

        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(id, reader.ExecuteScalar<long>("SELECT id FROM agent_outputs"));
    }

    [Fact]
    public async Task UnitWithAnAlreadyCancelledTokenNeverRunsAndItsTaskIsCancelled()
    {
        await using var db = await TestDatabase.OpenAsync();
        var ran = false;

        var unit = db.Database.Writes.ExecuteAsync((connection, _) =>
        {
            ran = true;
            return ArtifactRepository.Insert(connection, SqliteFiles.Artifact(), Now, []).Id;
        }, new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unit);
        Assert.True(unit.IsCanceled);
        Assert.False(ran);
        Assert.Equal(0, SqliteFiles.Count(db.Path, "consensus_artifacts"));
    }

    [Fact]
    public async Task UnitCancelledWhileQueuedNeverRunsAndItsTaskIsCancelled()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var ran = false;
        using var blocker = await Blocker.StartAsync(lane);

        var queued = lane.ExecuteAsync((connection, _) =>
        {
            ran = true;
            return ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: "cancelled"), Now, []).Id;
        }, cancel.Token);
        var other = lane.ExecuteAsync((connection, _) => ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: "kept"), Now, []).Id, Ct);
        await cancel.CancelAsync();
        await blocker.ReleaseAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.True(queued.IsCanceled);
        Assert.False(ran);
        await other;
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(new[] { "kept" }, Agents(reader, "consensus_artifacts"));
        Assert.Equal(new[] { "kept" }, Agents(reader, "agent_outputs"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UnitThatIsCancelledWhileRunningRollsBackAndItsTaskIsCancelled(bool grouped)
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var blocker = grouped ? await Blocker.StartAsync(lane) : null;

        var before = grouped ? lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: "before"), Now, []).Id, Ct) : null;
        var cancelled = lane.ExecuteAsync((connection, token) =>
        {
            var artifact = ArtifactRepository.Insert(connection, SqliteFiles.Artifact(agent: "cancelled"), Now, []);
            cancel.Cancel();
            token.ThrowIfCancellationRequested();
            return artifact.Id;
        }, cancel.Token);
        var after = grouped ? lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: "after"), Now, []).Id, Ct) : null;
        if (blocker is not null)
        {
            await blocker.ReleaseAsync();
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(cancelled.IsCanceled);
        if (grouped)
        {
            await before!;
            await after!;
        }

        using var reader = SqliteFiles.OpenRaw(db.Path);
        var expected = grouped ? new[] { "after", "before" } : Array.Empty<string>();
        Assert.Equal(expected, Agents(reader, "consensus_artifacts"));
        Assert.Equal(expected, Agents(reader, "agent_outputs"));
    }

    [Fact]
    public async Task ResultIsReturnedOnlyOnceTheTransactionHasCommitted()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        var insideSawTransaction = false;

        var id = await lane.ExecuteAsync((connection, _) =>
        {
            insideSawTransaction = SqliteConnections.InTransaction(connection);
            return ArtifactRepository.Insert(connection, SqliteFiles.Artifact(), Now, []).Id;
        }, Ct);

        // Another process sees the row as soon as the caller has the result.
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.True(insideSawTransaction);
        Assert.Equal(id, reader.ExecuteScalar<long>("SELECT id FROM consensus_artifacts"));
    }

    [Fact]
    public async Task EveryUnitRunsOnTheLanesOneDedicatedThread()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;

        var threads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            lane.ExecuteAsync((_, _) => (Environment.CurrentManagedThreadId, Thread.CurrentThread.Name), Ct)));

        Assert.Single(threads.Distinct());
        Assert.Equal("sqlite-write-lane", threads[0].Name);
    }

    [Fact]
    public async Task ExecuteAloneRunsOutsideATransactionAfterTheWritesQueuedBeforeIt()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        using var blocker = await Blocker.StartAsync(lane);

        var write = lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(), Now, []).Id, Ct);
        var alone = lane.ExecuteAloneAsync((connection, _) => (
            InTransaction: SqliteConnections.InTransaction(connection),
            Rows: SqliteFiles.Count(connection, "consensus_artifacts"),
            Checkpoint: connection.QuerySingle<(long Busy, long Log, long Checkpointed)>("PRAGMA wal_checkpoint(TRUNCATE)")), Ct);
        await blocker.ReleaseAsync();
        await write;
        var result = await alone;

        Assert.False(result.InTransaction);
        Assert.Equal(1L, result.Rows);
        Assert.Equal(0L, result.Checkpoint.Busy);
    }

    [Fact]
    public async Task FailingAloneActionLeavesNoTransactionOpen()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;

        await Assert.ThrowsAsync<InvalidOperationException>(() => lane.ExecuteAloneAsync<int>((connection, _) =>
        {
            connection.Execute("BEGIN IMMEDIATE");
            ArtifactRepository.Insert(connection, SqliteFiles.Artifact(), Now, []);
            throw new InvalidOperationException("maintenance failed");
        }, Ct));
        var inTransaction = await lane.ExecuteAloneAsync((connection, _) => SqliteConnections.InTransaction(connection), Ct);

        Assert.False(inTransaction);
        Assert.Equal(0, SqliteFiles.Count(db.Path, "consensus_artifacts"));
    }

    [Fact]
    public async Task QueuedWritesFinishBeforeDisposeCompletesAndLaterWritesAreRefused()
    {
        await using var db = await TestDatabase.OpenAsync();
        var lane = db.Database.Writes;
        Task<long>[] queued;
        using (var blocker = await Blocker.StartAsync(lane))
        {
            queued = Enumerable.Range(0, 5)
                .Select(i => lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: $"queued-{i}"), Now, []).Id, Ct))
                .ToArray();
            var disposing = db.Database.DisposeAsync().AsTask();
            Assert.False(disposing.IsCompleted);
            await blocker.ReleaseAsync();
            await disposing.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        // Their results reach the callers through asynchronous continuations; the rows were committed before dispose returned.
        Assert.Equal(5, SqliteFiles.Count(db.Path, "agent_outputs"));
        await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => lane.ExecuteAsync((_, _) => 0, Ct));
    }

    [Fact]
    public async Task DisposeCheckpointsTheWal()
    {
        await using var db = await TestDatabase.OpenAsync();
        var repository = db.Get<ArtifactRepository>();
        for (var i = 0; i < 20; i++)
        {
            await repository.StoreAsync(SqliteFiles.Artifact(n: i), key: null, Ct);
        }

        // A second process keeps the file open, so closing the service's connections is not the
        // last close (which would checkpoint by itself): only the lane's checkpoint empties the WAL.
        using var other = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(20L, SqliteFiles.Count(other, "agent_outputs"));
        var wal = new FileInfo(db.Path + "-wal");
        Assert.True(wal.Exists && wal.Length > 0, "the writes should be in the WAL before dispose");

        await db.Database.DisposeAsync();

        wal.Refresh();
        Assert.True(!wal.Exists || wal.Length == 0, $"WAL is {wal.Length} bytes after dispose");
        Assert.Equal(20L, SqliteFiles.Count(other, "agent_outputs"));
    }
}
