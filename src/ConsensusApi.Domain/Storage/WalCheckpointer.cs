using ConsensusApi.Domain.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// Copies committed WAL frames back into the database file on its own thread and pooled
/// connection (<c>PRAGMA wal_checkpoint(PASSIVE)</c>), so the write lane neither copies pages nor
/// waits for the checkpoint's fsyncs; the lane's connection runs with SQLite's automatic
/// checkpoint off.
/// <para>
/// SQLite starts the WAL again from its beginning only when a write transaction begins with every
/// frame already copied. A writer that never pauses would therefore let the WAL grow without end,
/// so once a pass reports at least <c>Database:WalRestartFrames</c> frames, the lane waits before
/// its next transaction for one pass that covers all it has committed. That pass only has the
/// frames of the last transaction or two left to copy.
/// </para>
/// </summary>
internal sealed class WalCheckpointer : IDisposable
{
    /// <summary>Longest wait of the lane for a pass; past it the lane goes on and the WAL grows until the next pass.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a pass waits for more commits to cover.</summary>
    private static readonly TimeSpan PassInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Units of work committed since the last pass that start the next one without gathering.</summary>
    private const int GatherUnits = 32;

    private readonly object _gate = new();
    private readonly Lock _pass = new();
    private readonly ConnectionLease _lease;
    private readonly int _restartFrames;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private long _committed;
    private long _copiedThrough;
    private int _walFrames;
    private bool _gaveUpWaiting;
    private bool _laneWaiting;
    private int _unitsSincePass;
    private long _passes;
    private bool _stopping;

    public WalCheckpointer(ConnectionLease lease, int restartFrames, ILogger logger)
    {
        _lease = lease;
        _restartFrames = restartFrames;
        _logger = logger;
        _thread = new Thread(Loop) { IsBackground = true, Name = "sqlite-checkpointer" };
        _thread.Start();
    }

    /// <summary>Passes run so far.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>The lane committed a transaction of <paramref name="units"/> units: there are frames to copy.</summary>
    public void Committed(int units)
    {
        lock (_gate)
        {
            _committed++;
            _unitsSincePass += units;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Called by the lane before each transaction. When the WAL is long, waits (at most
    /// <see cref="LongestWait"/>) until every committed frame is copied, so the transaction
    /// restarts the WAL.
    /// </summary>
    public void BeforeTransaction()
    {
        lock (_gate)
        {
            if (_walFrames < _restartFrames || _gaveUpWaiting)
            {
                return;
            }

            var deadline = Environment.TickCount64 + (long)LongestWait.TotalMilliseconds;
            _laneWaiting = true;
            Monitor.PulseAll(_gate);
            try
            {
                while (_copiedThrough < _committed && !_stopping)
                {
                    var left = deadline - Environment.TickCount64;
                    if (left <= 0 || !Monitor.Wait(_gate, (int)left))
                    {
                        // A reader holds an old snapshot: do not wait again until a pass gets through.
                        _gaveUpWaiting = true;
                        return;
                    }
                }
            }
            finally
            {
                _laneWaiting = false;
            }

            _walFrames = 0;
        }
    }

    /// <summary>Runs <paramref name="action"/> while no pass runs (SQLite admits one checkpoint at a time).</summary>
    public void WhilePaused(Action action)
    {
        lock (_pass)
        {
            action();
        }
    }

    private void Loop()
    {
        using var command = _lease.Connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        while (true)
        {
            long covers;
            lock (_gate)
            {
                while (_copiedThrough == _committed && !_stopping)
                {
                    Monitor.Wait(_gate);
                }

                // A pass fsyncs twice: one after every small commit would double the disk work of
                // writes made one after another. Small commits are gathered into one pass for up to
                // PassInterval; a group commit, or the lane waiting for a pass, starts it at once.
                var gatherUntil = Environment.TickCount64 + (long)PassInterval.TotalMilliseconds;
                while (_unitsSincePass < GatherUnits && !_laneWaiting && !_stopping && Environment.TickCount64 < gatherUntil)
                {
                    Monitor.Wait(_gate, (int)Math.Max(1, gatherUntil - Environment.TickCount64));
                }

                _unitsSincePass = 0;

                if (_stopping)
                {
                    return;
                }

                covers = _committed;
            }

            var (frames, copied) = Pass(command);
            Interlocked.Increment(ref _passes);
            lock (_gate)
            {
                _walFrames = frames;
                if (copied >= frames)
                {
                    _copiedThrough = covers;
                    _gaveUpWaiting = false;
                }

                Monitor.PulseAll(_gate);
            }

            if (copied < 0)
            {
                // The pass failed (logged); back off outside the pass lock, so vacuum and backup need not wait.
                Thread.Sleep(100);
            }
            else if (copied < frames)
            {
                // A reader still uses older frames; let it finish before trying again.
                Thread.Sleep(1);
            }
        }
    }

    private (int Frames, int Copied) Pass(SqliteCommand command)
    {
        lock (_pass)
        {
            try
            {
                using var reader = command.ExecuteReader();
                return reader.Read() ? (reader.GetInt32(1), reader.GetInt32(2)) : (0, 0);
            }
            catch (SqliteException ex)
            {
                // Another process checkpointing, or the file going away: the next commit tries again.
                StorageLog.WalCheckpointFailed(_logger, _lease.Connection.DataSource, ex);
                return (0, -1);
            }
        }
    }

    /// <summary>Stops the thread after its current pass and returns the connection.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        _thread.Join();
        _lease.Dispose();
    }
}
