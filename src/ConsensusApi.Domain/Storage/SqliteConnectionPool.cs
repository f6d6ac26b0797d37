using System.Collections.Concurrent;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Storage;

/// <summary>Counts of the pool, for telemetry.</summary>
/// <param name="Size">Most open connections (<c>Database:PoolSize</c>).</param>
/// <param name="Open">Physical connections open now.</param>
/// <param name="InUse">Connections leased out now (the write lane's included).</param>
/// <param name="Idle">Open connections waiting in the pool.</param>
/// <param name="Waits">Checkouts that had to wait for a free connection.</param>
/// <param name="Timeouts">Checkouts that gave up waiting.</param>
/// <param name="Replaced">Connections discarded by the health check.</param>
public sealed record PoolStatistics(int Size, int Open, int InUse, int Idle, long Waits, long Timeouts, long Replaced);

/// <summary>
/// A bounded pool of open, pragma-initialised SQLite connections. At most <c>Database:PoolSize</c>
/// connections exist; a checkout waits at most <c>Database:AcquireTimeoutMs</c> (and can be
/// cancelled); a connection that fails its health check on checkout is discarded and replaced.
/// </summary>
public sealed class SqliteConnectionPool : IDisposable
{
    /// <summary>Idle connections older than this are probed with a query before reuse.</summary>
    private static readonly TimeSpan ProbeAfterIdle = TimeSpan.FromSeconds(30);

    private readonly string _path;
    private readonly DatabaseOptions _options;
    private readonly ConsensusMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _permits;
    private readonly ConcurrentStack<PooledConnection> _idle = new();
    private int _open;
    private int _inUse;
    private long _waits;
    private long _timeouts;
    private long _replaced;
    private bool _disposed;

    internal SqliteConnectionPool(string path, DatabaseOptions options, ConsensusMetrics metrics, ILogger logger, TimeProvider timeProvider)
    {
        _path = path;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _permits = new SemaphoreSlim(options.PoolSize, options.PoolSize);
    }

    /// <summary>The database file.</summary>
    public string Path => _path;

    /// <summary>Current counts.</summary>
    public PoolStatistics Statistics => new(_options.PoolSize, Volatile.Read(ref _open), Volatile.Read(ref _inUse), _idle.Count,
        Interlocked.Read(ref _waits), Interlocked.Read(ref _timeouts), Interlocked.Read(ref _replaced));

    /// <summary>Opens connections until <paramref name="count"/> are idle (start-up warm-up).</summary>
    public void Warm(int count)
    {
        while (_idle.Count < count && Volatile.Read(ref _open) < _options.PoolSize)
        {
            _idle.Push(Create());
        }
    }

    /// <summary>Checks out a healthy connection; dispose the lease to return it.</summary>
    /// <exception cref="TimeoutException">No connection became free within <c>Database:AcquireTimeoutMs</c>.</exception>
    public async ValueTask<ConnectionLease> AcquireAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_permits.Wait(0, CancellationToken.None))
        {
            Interlocked.Increment(ref _waits);
            _metrics.PoolWaited();
            if (!await _permits.WaitAsync(TimeSpan.FromMilliseconds(_options.AcquireTimeoutMs), cancellationToken))
            {
                Interlocked.Increment(ref _timeouts);
                throw new TimeoutException($"No database connection became free within {_options.AcquireTimeoutMs} ms (Database:AcquireTimeoutMs).");
            }
        }

        try
        {
            var connection = TakeHealthy() ?? Create();
            Interlocked.Increment(ref _inUse);
            return new ConnectionLease(this, connection);
        }
        catch
        {
            _permits.Release();
            throw;
        }
    }

    internal void Return(PooledConnection connection, bool broken)
    {
        Interlocked.Decrement(ref _inUse);
        if (broken || _disposed || !IsUsable(connection.Connection))
        {
            Discard(connection);
        }
        else
        {
            connection.LastReturned = _timeProvider.GetTimestamp();
            _idle.Push(connection);
        }

        _permits.Release();
    }

    /// <summary>Closes every idle connection; leased ones close when returned.</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryPop(out var connection))
        {
            Discard(connection);
        }
    }

    private PooledConnection? TakeHealthy()
    {
        while (_idle.TryPop(out var candidate))
        {
            if (IsHealthy(candidate))
            {
                return candidate;
            }

            Interlocked.Increment(ref _replaced);
            _metrics.PoolConnectionReplaced();
            StorageLog.ConnectionReplaced(_logger, _path);
            Discard(candidate);
        }

        return null;
    }

    private bool IsHealthy(PooledConnection candidate)
    {
        if (!IsUsable(candidate.Connection))
        {
            return false;
        }

        if (_timeProvider.GetElapsedTime(candidate.LastReturned) < ProbeAfterIdle)
        {
            return true;
        }

        try
        {
            using var probe = candidate.Connection.CreateCommand();
            probe.CommandText = "SELECT 1";
            return probe.ExecuteScalar() is 1L;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    private static bool IsUsable(SqliteConnection connection) =>
        connection.State == System.Data.ConnectionState.Open && !SqliteConnections.InTransaction(connection);

    private PooledConnection Create()
    {
        var connection = SqliteConnections.Open(_path, _options);
        Interlocked.Increment(ref _open);
        return new PooledConnection(connection) { LastReturned = _timeProvider.GetTimestamp() };
    }

    private void Discard(PooledConnection connection)
    {
        Interlocked.Decrement(ref _open);
        PreparedStatements.Forget(connection.Connection);
        connection.Connection.Dispose();
    }
}

/// <summary>A physical connection and when it was last returned.</summary>
internal sealed class PooledConnection(SqliteConnection connection)
{
    public SqliteConnection Connection { get; } = connection;

    public long LastReturned { get; set; }
}

/// <summary>A checked-out connection. Dispose returns it; <see cref="MarkBroken"/> makes the pool discard it instead.</summary>
public sealed class ConnectionLease : IDisposable
{
    private readonly SqliteConnectionPool _pool;
    private readonly PooledConnection _connection;
    private bool _broken;
    private int _returned;

    internal ConnectionLease(SqliteConnectionPool pool, PooledConnection connection)
    {
        _pool = pool;
        _connection = connection;
    }

    /// <summary>The open connection.</summary>
    public SqliteConnection Connection => _connection.Connection;

    /// <summary>Discard the connection on return rather than reuse it.</summary>
    public void MarkBroken() => _broken = true;

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 1)
        {
            return;
        }

        if (!_broken && SqliteConnections.InTransaction(Connection))
        {
            // A unit of work left a transaction open (it threw past its own rollback): roll back, never reuse dirty.
            try
            {
                SqliteTransactions.Execute(Connection, "ROLLBACK");
            }
            catch (SqliteException)
            {
                _broken = true;
            }
        }

        _pool.Return(_connection, _broken);
    }
}
