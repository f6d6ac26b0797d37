using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Resilience;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// Where repositories run their SQL: reads on a pooled connection, writes on the write lane, and
/// both inside the retry pipeline, which re-runs the whole unit (never half a transaction).
/// </summary>
public sealed class StorageExecutor(ConsensusDatabase database, StoragePipeline pipeline, TimeProvider timeProvider) : IDisposable
{
    /// <summary>Keyed maintenance calls run one at a time, so a key's second call waits for the first and replays it.</summary>
    private readonly SemaphoreSlim _keyedOperations = new(1, 1);

    /// <summary>Runs <paramref name="query"/> on a pooled read connection, with retry.</summary>
    public ValueTask<T> ReadAsync<T>(string operation, Func<SqliteConnection, CancellationToken, T> query, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(operation, async token =>
        {
            using var lease = await database.Pool.AcquireAsync(token);
            return query(lease.Connection, token);
        }, cancellationToken);

    /// <summary>Runs <paramref name="unit"/> as one write transaction on the write lane, with retry.</summary>
    public ValueTask<T> WriteAsync<T>(string operation, Func<SqliteConnection, CancellationToken, T> unit, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(operation, async token => await database.Writes.ExecuteAsync(unit, token), cancellationToken);

    /// <summary>Runs <paramref name="action"/> alone on the write connection, outside a transaction, with retry.</summary>
    public ValueTask<T> WriteAloneAsync<T>(string operation, Func<SqliteConnection, CancellationToken, T> action, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(operation, async token => await database.Writes.ExecuteAloneAsync(action, token), cancellationToken);

    /// <summary>
    /// Runs a write guarded by an idempotency key: the key is looked up and recorded in the same
    /// transaction as the write, so a replayed key returns the first outcome and writes nothing.
    /// </summary>
    public ValueTask<WriteOutcome<T>> WriteOnceAsync<T>(
        string operation,
        IdempotencyKey? key,
        Func<SqliteConnection, long, CancellationToken, (T Value, bool Created)> unit,
        CancellationToken cancellationToken) =>
        WriteAsync(operation, (connection, token) =>
        {
            var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            if (key is not null && IdempotencyStore.TryReplay<T>(connection, key, now) is { } replay)
            {
                return replay;
            }

            var (value, created) = unit(connection, now, token);
            if (key is not null)
            {
                IdempotencyStore.Save(connection, key, value, created, now);
            }

            return new WriteOutcome<T>(value, created, Replayed: false);
        }, cancellationToken);

    /// <summary>
    /// Runs an operation that is not a data write (a vacuum, a backup) at most once per
    /// idempotency key: a replayed key returns the first outcome without running it again.
    /// The key is recorded after the operation, in a transaction of its own; calls with a key run
    /// one at a time, so two calls with the same key at once cannot both run it.
    /// </summary>
    public async ValueTask<WriteOutcome<T>> RunOnceAsync<T>(string operation, IdempotencyKey? key, Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (key is null)
        {
            return new WriteOutcome<T>(await action(cancellationToken), Created: false, Replayed: false);
        }

        await _keyedOperations.WaitAsync(cancellationToken);
        try
        {
            var replay = await WriteAsync(operation, (connection, _) =>
                IdempotencyStore.TryReplay<T>(connection, key, timeProvider.GetUtcNow().ToUnixTimeMilliseconds()), cancellationToken);
            if (replay is not null)
            {
                return replay;
            }

            var value = await action(cancellationToken);
            return await WriteAsync(operation, (connection, _) =>
            {
                var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
                // A data write may have taken the key meanwhile: never overwrite its outcome.
                if (IdempotencyStore.TryReplay<T>(connection, key, now) is { } taken)
                {
                    return taken;
                }

                IdempotencyStore.Save(connection, key, value, created: false, now);
                return new WriteOutcome<T>(value, Created: false, Replayed: false);
            }, cancellationToken);
        }
        finally
        {
            _keyedOperations.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _keyedOperations.Dispose();
}
