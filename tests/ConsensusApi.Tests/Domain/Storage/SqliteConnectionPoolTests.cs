using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class SqliteConnectionPoolTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly TestMeterFactory _meters = new();
    private readonly CapturingLogger<SqliteConnectionPool> _log = new();
    private readonly List<SqliteConnectionPool> _pools = [];

    public void Dispose()
    {
        foreach (var pool in _pools)
        {
            pool.Dispose();
        }

        _meters.Dispose();
        _folder.Dispose();
    }

    private string DatabasePath => _folder.File("pool.db");

    private SqliteConnectionPool NewPool(Action<DatabaseOptions>? configure = null, TimeProvider? timeProvider = null)
    {
        var pool = SqliteFiles.Pool(DatabasePath, SqliteFiles.Options(DatabasePath, configure), _meters, timeProvider, _log);
        _pools.Add(pool);
        return pool;
    }

    [Fact]
    public void NewPoolWarmsMinIdleConnectionsAndLeasesNone()
    {
        var pool = NewPool(o => (o.PoolSize, o.MinIdle) = (10, 2));

        pool.Warm(2);

        Assert.Equal(new PoolStatistics(Size: 10, Open: 2, InUse: 0, Idle: 2, Waits: 0, Timeouts: 0, Replaced: 0), pool.Statistics);
        Assert.True(File.Exists(DatabasePath));
    }

    [Fact]
    public void WarmNeverOpensMoreThanPoolSize()
    {
        var pool = NewPool(o => o.PoolSize = 3);

        pool.Warm(8);

        Assert.Equal(3, pool.Statistics.Open);
        Assert.Equal(3, pool.Statistics.Idle);
    }

    [Fact]
    public async Task AcquireAndReleaseMoveConnectionsBetweenIdleAndInUse()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();
        pool.Warm(2);

        var first = await pool.AcquireAsync(ct);
        var second = await pool.AcquireAsync(ct);
        var third = await pool.AcquireAsync(ct);
        var whileLeased = pool.Statistics;
        first.Dispose();
        second.Dispose();
        var afterTwoReturns = pool.Statistics;
        third.Dispose();
        third.Dispose(); // a second dispose returns nothing twice

        Assert.Equal((3, 3, 0), (whileLeased.Open, whileLeased.InUse, whileLeased.Idle));
        Assert.Equal((3, 1, 2), (afterTwoReturns.Open, afterTwoReturns.InUse, afterTwoReturns.Idle));
        Assert.Equal((3, 0, 3), (pool.Statistics.Open, pool.Statistics.InUse, pool.Statistics.Idle));
    }

    [Fact]
    public async Task ReturnedConnectionIsReusedRatherThanReopened()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();

        Microsoft.Data.Sqlite.SqliteConnection physical;
        using (var lease = await pool.AcquireAsync(ct))
        {
            physical = lease.Connection;
        }

        using var again = await pool.AcquireAsync(ct);

        Assert.Same(physical, again.Connection);
        Assert.Equal(1, pool.Statistics.Open);
    }

    [Fact]
    public async Task EveryNewPhysicalConnectionHasAllEightPragmas()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool(o => (o.PoolSize, o.BusyTimeoutMs, o.MmapSizeBytes) = (10, 1234, 1 << 20));
        var options = SqliteFiles.Options(DatabasePath, o => (o.BusyTimeoutMs, o.MmapSizeBytes) = (1234, 1 << 20));

        var leases = new List<ConnectionLease>();
        for (var i = 0; i < 10; i++)
        {
            leases.Add(await pool.AcquireAsync(ct));
        }

        try
        {
            Assert.Equal(10, leases.Select(lease => lease.Connection).Distinct().Count());
            foreach (var lease in leases)
            {
                var checks = Pragmas.Check(lease.Connection, options);
                Assert.Equal(
                    new[] { "journal_mode", "synchronous", "foreign_keys", "cache_size", "temp_store", "auto_vacuum", "mmap_size", "busy_timeout" },
                    checks.Select(check => check.Name));
                Assert.All(checks, check => Assert.True(check.Ok, $"{check.Name} is {check.Actual}, expected {check.Expected}"));
                Assert.Equal("1234", checks.Single(check => check.Name == "busy_timeout").Actual);
                Assert.Equal((1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), checks.Single(check => check.Name == "mmap_size").Actual);
            }
        }
        finally
        {
            leases.ForEach(lease => lease.Dispose());
        }
    }

    [Fact]
    public async Task TenLeasesWorkConcurrentlyOnTenConnections()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool(o => o.PoolSize = 10);
        using (var setup = await pool.AcquireAsync(ct))
        {
            setup.Connection.Execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY); INSERT INTO numbers (n) VALUES (1), (2), (3)");
        }

        // Every lease stays open until all ten exist, so they are held at the same time.
        var leased = 0;
        var allLeased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readers = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            using var lease = await pool.AcquireAsync(ct);
            if (Interlocked.Increment(ref leased) == 10)
            {
                allLeased.SetResult();
            }

            await allLeased.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            return (lease.Connection, Sum: lease.Connection.ExecuteScalar<long>("SELECT sum(n) FROM numbers"));
        }, ct)).ToList();
        var results = await Task.WhenAll(readers);

        Assert.All(results, result => Assert.Equal(6, result.Sum));
        Assert.Equal(10, results.Select(result => result.Connection).Distinct().Count());
        Assert.Equal(new PoolStatistics(Size: 10, Open: 10, InUse: 0, Idle: 10, Waits: 0, Timeouts: 0, Replaced: 0), pool.Statistics);
    }

    [Fact]
    public async Task EleventhAcquireWaitsThenTimesOutAfterAcquireTimeout()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool(o => (o.PoolSize, o.AcquireTimeoutMs) = (10, 200));
        var leases = new List<ConnectionLease>();
        for (var i = 0; i < 10; i++)
        {
            leases.Add(await pool.AcquireAsync(ct));
        }

        try
        {
            var error = await Assert.ThrowsAsync<TimeoutException>(async () => await pool.AcquireAsync(ct));

            Assert.Contains("200 ms", error.Message, StringComparison.Ordinal);
            Assert.Contains("Database:AcquireTimeoutMs", error.Message, StringComparison.Ordinal);
            Assert.Equal(new PoolStatistics(Size: 10, Open: 10, InUse: 10, Idle: 0, Waits: 1, Timeouts: 1, Replaced: 0), pool.Statistics);
        }
        finally
        {
            leases.ForEach(lease => lease.Dispose());
        }

        // The timed-out wait took no permit: all ten are free again.
        using var after = await pool.AcquireAsync(ct);
        Assert.Equal(1, pool.Statistics.InUse);
    }

    [Fact]
    public async Task WaitingAcquireGetsTheConnectionReleasedByAnotherLease()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool(o => (o.PoolSize, o.AcquireTimeoutMs) = (2, 60_000));
        using var first = await pool.AcquireAsync(ct);
        var second = await pool.AcquireAsync(ct);

        var waiting = pool.AcquireAsync(ct).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, pool.Statistics.Waits);
        var released = second.Connection;
        second.Dispose();
        using var third = await waiting.WaitAsync(TimeSpan.FromSeconds(10), ct);

        Assert.Same(released, third.Connection);
        Assert.Equal(0, pool.Statistics.Timeouts);
    }

    [Fact]
    public async Task WaitingAcquireIsCancellable()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool(o => (o.PoolSize, o.AcquireTimeoutMs) = (2, 60_000));
        using var first = await pool.AcquireAsync(ct);
        using var second = await pool.AcquireAsync(ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);

        var waiting = pool.AcquireAsync(cancel.Token).AsTask();
        Assert.Equal(1, pool.Statistics.Waits);
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, pool.Statistics.Timeouts);
        Assert.Equal(2, pool.Statistics.InUse);
    }

    [Fact]
    public async Task ConnectionClosedWhileLeasedIsDiscardedOnReturnAndReplacedOnNextCheckout()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();
        var lease = await pool.AcquireAsync(ct);
        var broken = lease.Connection;

        broken.Close();
        lease.Dispose();
        var afterReturn = pool.Statistics;
        using var next = await pool.AcquireAsync(ct);

        Assert.Equal((0, 0, 0), (afterReturn.Open, afterReturn.InUse, afterReturn.Idle));
        Assert.NotSame(broken, next.Connection);
        Assert.Equal(System.Data.ConnectionState.Open, next.Connection.State);
        Assert.Equal("wal", next.Connection.ExecuteScalar<string>("PRAGMA journal_mode"));
        Assert.Equal(1, pool.Statistics.Open);
    }

    [Fact]
    public async Task LeaseMarkedBrokenIsDiscardedInsteadOfReused()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();
        var lease = await pool.AcquireAsync(ct);
        var broken = lease.Connection;

        lease.MarkBroken();
        lease.Dispose();
        using var next = await pool.AcquireAsync(ct);

        Assert.Equal(System.Data.ConnectionState.Closed, broken.State);
        Assert.NotSame(broken, next.Connection);
        Assert.Equal(1, pool.Statistics.Open);
    }

    [Fact]
    public async Task IdleConnectionThatFailsItsHealthCheckIsReplacedOnCheckout()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();
        pool.Warm(1);
        Microsoft.Data.Sqlite.SqliteConnection idle;
        using (var lease = await pool.AcquireAsync(ct))
        {
            idle = lease.Connection;
        }

        idle.Close(); // broken while waiting in the pool
        using var next = await pool.AcquireAsync(ct);

        Assert.NotSame(idle, next.Connection);
        Assert.Equal(1L, next.Connection.ExecuteScalar<long>("SELECT 1"));
        Assert.Equal(new PoolStatistics(Size: 10, Open: 1, InUse: 1, Idle: 0, Waits: 0, Timeouts: 0, Replaced: 1), pool.Statistics);
        var warning = Assert.Single(_log.Entries, entry => entry.EventId.Id == 1001);
        Assert.Equal(LogLevel.Warning, warning.Level);
    }

    [Fact]
    public async Task IdleConnectionLeftInsideATransactionIsReplacedOnCheckout()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();
        Microsoft.Data.Sqlite.SqliteConnection idle;
        using (var lease = await pool.AcquireAsync(ct))
        {
            idle = lease.Connection;
        }

        idle.Execute("BEGIN TRANSACTION");
        using var next = await pool.AcquireAsync(ct);

        Assert.NotSame(idle, next.Connection);
        Assert.Equal(1, pool.Statistics.Replaced);
        Assert.False(SqliteConnections.InTransaction(next.Connection));
    }

    [Fact]
    public async Task HealthyConnectionIdleLongerThanTheProbeIntervalIsProbedAndReused()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var pool = NewPool(timeProvider: time);
        Microsoft.Data.Sqlite.SqliteConnection idle;
        using (var lease = await pool.AcquireAsync(ct))
        {
            idle = lease.Connection;
        }

        time.Advance(TimeSpan.FromMinutes(5));
        using var next = await pool.AcquireAsync(ct);

        Assert.Same(idle, next.Connection);
        Assert.Equal(0, pool.Statistics.Replaced);
    }

    [Fact]
    public async Task LeaseReturnedInsideATransactionIsRolledBackAndNeverReusedDirty()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();
        using (var setup = await pool.AcquireAsync(ct))
        {
            setup.Connection.Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
        }

        var lease = await pool.AcquireAsync(ct);
        var physical = lease.Connection;
        physical.Execute("BEGIN IMMEDIATE; INSERT INTO items (name) VALUES ('uncommitted');");
        Assert.True(SqliteConnections.InTransaction(physical));
        lease.Dispose();

        using var next = await pool.AcquireAsync(ct);
        Assert.Same(physical, next.Connection);
        Assert.False(SqliteConnections.InTransaction(next.Connection));
        Assert.Equal(0L, next.Connection.ExecuteScalar<long>("SELECT count(*) FROM items"));
        using var other = SqliteFiles.OpenRaw(DatabasePath);
        Assert.Equal(0L, SqliteFiles.Count(other, "items"));

        // The write lock went with the rollback: another connection can write at once.
        other.Execute("BEGIN IMMEDIATE; INSERT INTO items (name) VALUES ('other'); COMMIT;");
        Assert.Equal(1L, SqliteFiles.Count(other, "items"));
    }

    [Fact]
    public async Task DisposedPoolClosesIdleConnectionsAndRefusesCheckouts()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = NewPool();
        pool.Warm(2);
        var leased = await pool.AcquireAsync(ct);

        pool.Dispose();
        var afterDispose = pool.Statistics;
        leased.Dispose();

        Assert.Equal((1, 0), (afterDispose.Open, afterDispose.Idle));
        Assert.Equal((0, 0, 0), (pool.Statistics.Open, pool.Statistics.Idle, pool.Statistics.InUse));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.AcquireAsync(ct));
    }
}
