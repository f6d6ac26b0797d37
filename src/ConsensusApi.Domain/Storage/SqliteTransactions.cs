using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>How a transaction takes its locks.</summary>
public enum TransactionKind
{
    /// <summary><c>BEGIN DEFERRED</c>: locks taken on first read or write. For reads.</summary>
    Deferred,

    /// <summary><c>BEGIN IMMEDIATE</c>: the write lock is taken at once. For every write.</summary>
    Immediate,

    /// <summary><c>BEGIN EXCLUSIVE</c>: no other connection may read or write. For migrations.</summary>
    Exclusive,
}

/// <summary>
/// The one transaction helper: runs a unit of work in a transaction of the chosen kind, commits
/// on success, and rolls back on any exception or cancellation. A process killed mid-way leaves
/// nothing either: SQLite's journal discards an uncommitted transaction.
/// </summary>
public static class SqliteTransactions
{
    /// <summary>Runs <paramref name="work"/> in one transaction and returns its result.</summary>
    public static T Run<T>(SqliteConnection connection, TransactionKind kind, Func<SqliteConnection, CancellationToken, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(work);
        cancellationToken.ThrowIfCancellationRequested();
        Execute(connection, kind switch
        {
            TransactionKind.Deferred => "BEGIN DEFERRED",
            TransactionKind.Immediate => "BEGIN IMMEDIATE",
            TransactionKind.Exclusive => "BEGIN EXCLUSIVE",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        });
        try
        {
            var result = work(connection, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            Execute(connection, "COMMIT");
            return result;
        }
        catch
        {
            RollbackIfActive(connection);
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> in one transaction.</summary>
    public static void Run(SqliteConnection connection, TransactionKind kind, Action<SqliteConnection, CancellationToken> work, CancellationToken cancellationToken) =>
        Run(connection, kind, (c, ct) =>
        {
            work(c, ct);
            return true;
        }, cancellationToken);

    /// <summary>Rolls back when a transaction is open; SQLite may already have rolled back by itself (disk full, I/O error).</summary>
    internal static void RollbackIfActive(SqliteConnection connection)
    {
        if (SqliteConnections.InTransaction(connection))
        {
            Execute(connection, "ROLLBACK");
        }
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
