using System.Threading.Channels;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// The service's single write path. SQLite admits one writer at a time, so every write unit of
/// work is queued here and run on one dedicated connection by one thread: writers inside the
/// process never contend for the lock. Units that queue up while a transaction runs are committed
/// together in the next one (group commit), and each keeps its own all-or-nothing outcome: when a
/// unit throws, the transaction is rolled back and the group runs again with a savepoint around
/// each unit, where the unit that throws is rolled back to its savepoint and fails alone.
/// When the shared transaction itself fails (BEGIN or COMMIT busy, disk full), every unit of it
/// is re-run in a transaction of its own so each caller sees its own outcome.
/// </summary>
public sealed class WriteLane : IAsyncDisposable
{
    private readonly SqliteConnectionPool _pool;
    private readonly DatabaseOptions _options;
    private readonly ConsensusMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Channel<WorkItem> _queue;
    private readonly List<WorkItem> _batch;
    private Thread? _thread;
    private ConnectionLease? _lease;
    private WalCheckpointer? _checkpointer;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal WriteLane(SqliteConnectionPool pool, DatabaseOptions options, ConsensusMetrics metrics, ILogger logger)
    {
        _pool = pool;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _batch = new List<WorkItem>(options.MaxWriteBatch);
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(10_000)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Passes of the background checkpointer so far (0 without it).</summary>
    internal long CheckpointPasses => _checkpointer?.Passes ?? 0;

    /// <summary>Takes the lane's connection (and the checkpointer's) from the pool and starts the writer thread.</summary>
    internal async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _lease = await AcquireWriteConnectionAsync(cancellationToken);
        if (_options.WalRestartFrames > 0)
        {
            _checkpointer = new WalCheckpointer(await _pool.AcquireAsync(cancellationToken), _options.WalRestartFrames, _logger);
        }

        _thread = new Thread(Loop) { IsBackground = true, Name = "sqlite-write-lane" };
        _thread.Start();
    }

    /// <summary>
    /// Runs <paramref name="unit"/> inside a write transaction (possibly shared with other units,
    /// isolated by a savepoint) and returns its result once the transaction has committed.
    /// The unit runs on the writer thread and must only use the connection it is given.
    /// </summary>
    public Task<T> ExecuteAsync<T>(Func<SqliteConnection, CancellationToken, T> unit, CancellationToken cancellationToken) =>
        Enqueue(new WorkItem<T>(unit, alone: false, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs <paramref name="action"/> alone on the write connection, outside any transaction
    /// (VACUUM, checkpoints, backups need that), between two transactions of the lane.
    /// </summary>
    public Task<T> ExecuteAloneAsync<T>(Func<SqliteConnection, CancellationToken, T> action, CancellationToken cancellationToken) =>
        Enqueue(new WorkItem<T>(action, alone: true, cancellationToken), cancellationToken);

    private async Task<T> Enqueue<T>(WorkItem<T> item, CancellationToken cancellationToken)
    {
        if (!_queue.Writer.TryWrite(item))
        {
            try
            {
                await _queue.Writer.WriteAsync(item, cancellationToken);
            }
            catch (ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(WriteLane), "The write lane has stopped.");
            }
        }

        return await item.Task;
    }

    /// <summary>Stops taking work, finishes what is queued, checkpoints the WAL and returns the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_thread is not null)
        {
            await _stopped.Task;
        }

        _lease?.Dispose();
        _lease = null;
    }

    private SqliteConnection Connection => _lease!.Connection;

    private void Loop()
    {
        try
        {
            var reader = _queue.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                _batch.Clear();
                while (_batch.Count < _options.MaxWriteBatch && reader.TryRead(out var item))
                {
                    if (item.Alone)
                    {
                        RunGroup();
                        _batch.Clear();
                        RunAlone(item);
                        continue;
                    }

                    _batch.Add(item);
                }

                _checkpointer?.BeforeTransaction();
                RunGroup();
                CheckpointIfLarge();
            }

            _checkpointer?.Dispose();
            _checkpointer = null;
            Checkpoint();
        }
        finally
        {
            _checkpointer?.Dispose();
            _stopped.TrySetResult();
        }
    }

    private void RunGroup()
    {
        _batch.RemoveAll(item => item.CancelIfRequested());
        switch (_batch.Count)
        {
            case 0:
                return;
            case 1:
                RunSingle(_batch[0]);
                _metrics.WriteBatch(1);
                return;
        }

        if (!TryEnsureConnection(_batch))
        {
            return;
        }

        // A savepoint makes SQLite copy every page a unit changes before changing it, so the group
        // first runs without them; only when a unit fails is it rolled back and run again with one
        // savepoint per unit, where the failing unit fails alone.
        var outcome = RunTogether(isolateUnits: false);
        if (outcome == GroupOutcome.UnitFailed)
        {
            foreach (var item in _batch)
            {
                item.Reset();
            }

            // A rollback that failed left the lane without a connection.
            if (!TryEnsureConnection(_batch))
            {
                return;
            }

            outcome = RunTogether(isolateUnits: true);
        }

        if (outcome == GroupOutcome.TransactionFailed)
        {
            foreach (var item in _batch)
            {
                item.Reset();
                RunSingle(item);
            }
        }
    }

    private enum GroupOutcome
    {
        /// <summary>Committed, or BEGIN failed and every unit was failed with it.</summary>
        Done,

        /// <summary>A unit threw in a group without savepoints: everything was rolled back.</summary>
        UnitFailed,

        /// <summary>The shared transaction failed as a whole (COMMIT busy, disk full): everything was rolled back.</summary>
        TransactionFailed,
    }

    private GroupOutcome RunTogether(bool isolateUnits)
    {
        var connection = Connection;
        try
        {
            SqliteTransactions.Execute(connection, "BEGIN IMMEDIATE");
        }
        catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
        {
            foreach (var item in _batch)
            {
                item.Fail(ex);
            }

            return GroupOutcome.Done;
        }

        foreach (var item in _batch)
        {
            if (item.CancelIfRequested())
            {
                continue;
            }

            if (isolateUnits)
            {
                SqliteTransactions.Execute(connection, "SAVEPOINT unit");
            }

            try
            {
                item.Run(connection);
                if (isolateUnits)
                {
                    SqliteTransactions.Execute(connection, "RELEASE unit");
                }
            }
#pragma warning disable CA1031 // A unit's failure is its caller's result, whatever its type.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!isolateUnits)
                {
                    SafeRollback(connection);
                    return GroupOutcome.UnitFailed;
                }

                if (!SqliteConnections.InTransaction(connection))
                {
                    // SQLite rolled the whole transaction back (disk full, I/O error): nothing of it stands.
                    SafeRollback(connection);
                    return GroupOutcome.TransactionFailed;
                }

                SqliteTransactions.Execute(connection, "ROLLBACK TO unit");
                SqliteTransactions.Execute(connection, "RELEASE unit");
                item.SetFailure(ex);
            }
        }

        try
        {
            SqliteTransactions.Execute(connection, "COMMIT");
        }
        catch (SqliteException ex)
        {
            StorageLog.WriteBatchFailed(_logger, _batch.Count, ex);
            SafeRollback(connection);
            return GroupOutcome.TransactionFailed;
        }

        _checkpointer?.Committed(_batch.Count);
        _metrics.WriteBatch(_batch.Count);
        foreach (var item in _batch)
        {
            item.Complete();
        }

        return GroupOutcome.Done;
    }

    private void RunSingle(WorkItem item)
    {
        if (item.CancelIfRequested())
        {
            return;
        }

        if (!TryEnsureConnection([item]))
        {
            return;
        }

        var connection = Connection;
        try
        {
            SqliteTransactions.Run(connection, TransactionKind.Immediate, (c, _) =>
            {
                item.Run(c);
                return true;
            }, CancellationToken.None);
            _checkpointer?.Committed(1);
            item.Complete();
        }
#pragma warning disable CA1031 // A unit's failure is its caller's result, whatever its type.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SafeRollback(connection);
            item.Fail(ex);
        }
    }

    private void RunAlone(WorkItem item)
    {
        if (item.CancelIfRequested())
        {
            return;
        }

        if (!TryEnsureConnection([item]))
        {
            return;
        }

        try
        {
            // Vacuum and backups checkpoint by themselves.
            WithoutBackgroundCheckpoint(() => item.Run(Connection));
            _checkpointer?.Committed(1);
            item.Complete();
        }
#pragma warning disable CA1031 // The action's failure is its caller's result, whatever its type.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SafeRollback(Connection);
            item.Fail(ex);
        }
    }

    /// <summary>
    /// Makes sure the lane has an open connection. When no replacement can be had (the pool stays
    /// full past <c>Database:AcquireTimeoutMs</c>, the file cannot be opened), the units fail with
    /// that error, which retry may handle; it must not escape the writer thread, where it would
    /// end the process.
    /// </summary>
    private bool TryEnsureConnection(IEnumerable<WorkItem> items)
    {
        try
        {
            EnsureConnection();
            return true;
        }
#pragma warning disable CA1031 // Whatever keeps the lane from a connection is its callers' failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var item in items)
            {
                item.Fail(ex);
            }

            return false;
        }
    }

    /// <summary>Replaces the lane's connection when it was closed or broken underneath it.</summary>
    private void EnsureConnection()
    {
        if (_lease is { Connection.State: System.Data.ConnectionState.Open })
        {
            return;
        }

        _lease?.MarkBroken();
        _lease?.Dispose();
        _lease = AcquireWriteConnectionAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// A pooled connection for the lane. With the background checkpointer, SQLite's automatic
    /// checkpoint is off on it: the lane then never copies frames back itself.
    /// </summary>
    private async ValueTask<ConnectionLease> AcquireWriteConnectionAsync(CancellationToken cancellationToken)
    {
        var lease = await _pool.AcquireAsync(cancellationToken);
        if (_options.WalRestartFrames > 0)
        {
            try
            {
                SqliteTransactions.Execute(lease.Connection, "PRAGMA wal_autocheckpoint = 0");
            }
            catch
            {
                lease.Dispose();
                throw;
            }
        }

        return lease;
    }

    private void SafeRollback(SqliteConnection connection)
    {
        try
        {
            SqliteTransactions.RollbackIfActive(connection);
        }
        catch (SqliteException)
        {
            _lease?.MarkBroken();
            _lease?.Dispose();
            _lease = null;
        }
    }

    private void CheckpointIfLarge()
    {
        var wal = new FileInfo(_pool.Path + "-wal");
        wal.Refresh();
        if (wal.Exists && wal.Length > _options.WalCheckpointThresholdBytes)
        {
            StorageLog.WalCheckpointed(_logger, _pool.Path, wal.Length);
            Checkpoint();
        }
    }

    private void Checkpoint()
    {
        if (_lease is not { Connection.State: System.Data.ConnectionState.Open })
        {
            return;
        }

        try
        {
            WithoutBackgroundCheckpoint(() => SqliteTransactions.Execute(Connection, "PRAGMA wal_checkpoint(TRUNCATE)"));
        }
        catch (SqliteException ex)
        {
            StorageLog.WalCheckpointFailed(_logger, _pool.Path, ex);
        }
    }

    /// <summary>Runs <paramref name="action"/> between two passes of the checkpointer: SQLite admits one checkpoint at a time.</summary>
    private void WithoutBackgroundCheckpoint(Action action)
    {
        if (_checkpointer is { } checkpointer)
        {
            checkpointer.WhilePaused(action);
        }
        else
        {
            action();
        }
    }

    private abstract class WorkItem(bool alone, CancellationToken cancellationToken)
    {
        public bool Alone { get; } = alone;

        protected CancellationToken CancellationToken { get; } = cancellationToken;

        public abstract void Run(SqliteConnection connection);

        public abstract void SetFailure(Exception exception);

        public abstract void Reset();

        public abstract void Complete();

        public abstract void Fail(Exception exception);

        public abstract bool CancelIfRequested();
    }

    private sealed class WorkItem<T>(Func<SqliteConnection, CancellationToken, T> unit, bool alone, CancellationToken cancellationToken)
        : WorkItem(alone, cancellationToken)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _failure;

        public Task<T> Task => _completion.Task;

        public override void Run(SqliteConnection connection) => _result = unit(connection, CancellationToken);

        public override void SetFailure(Exception exception) => _failure = exception;

        public override void Reset()
        {
            _result = default;
            _failure = null;
        }

        public override void Complete()
        {
            if (_failure is not null)
            {
                Fail(_failure);
            }
            else
            {
                _completion.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception exception)
        {
            if (exception is OperationCanceledException && CancellationToken.IsCancellationRequested)
            {
                _completion.TrySetCanceled(CancellationToken);
            }
            else
            {
                _completion.TrySetException(exception);
            }
        }

        public override bool CancelIfRequested()
        {
            if (!CancellationToken.IsCancellationRequested)
            {
                return false;
            }

            _completion.TrySetCanceled(CancellationToken);
            return true;
        }
    }
}
