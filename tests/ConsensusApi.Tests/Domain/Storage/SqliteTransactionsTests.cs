using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class SqliteTransactionsTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly string _path;

    public SqliteTransactionsTests()
    {
        _path = _folder.File("transactions.db");
        using var setup = Open();
        setup.Execute("""
            CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents(id), name TEXT NOT NULL);
            """);
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>A pragma-initialised connection as the pool opens them; a small busy timeout when asked.</summary>
    private SqliteConnection Open(int busyTimeoutMs = 5000) =>
        SqliteConnections.Open(_path, SqliteFiles.Options(_path, o => o.BusyTimeoutMs = busyTimeoutMs));

    private static void InsertFamily(SqliteConnection connection, string name)
    {
        var parent = connection.ExecuteScalar<long>("INSERT INTO parents (name) VALUES (@name) RETURNING id", new { name });
        connection.Execute("INSERT INTO children (parent_id, name) VALUES (@parent, @name)", new { parent, name = name + "-child" });
    }

    private long Rows(string table)
    {
        using var reader = SqliteFiles.OpenRaw(_path);
        return SqliteFiles.Count(reader, table);
    }

    [Theory]
    [InlineData(TransactionKind.Deferred)]
    [InlineData(TransactionKind.Immediate)]
    [InlineData(TransactionKind.Exclusive)]
    public void EachTransactionKindCommitsItsWorkAndReturnsItsResult(TransactionKind kind)
    {
        using var connection = Open();
        bool insideTransaction = false;

        var result = SqliteTransactions.Run(connection, kind, (c, _) =>
        {
            insideTransaction = SqliteConnections.InTransaction(c);
            InsertFamily(c, kind.ToString());
            return 42;
        }, TestContext.Current.CancellationToken);

        Assert.Equal(42, result);
        Assert.True(insideTransaction);
        Assert.False(SqliteConnections.InTransaction(connection));
        Assert.Equal(1, Rows("parents"));
        Assert.Equal(1, Rows("children"));
    }

    [Fact]
    public void ExceptionInsideTheUnitRollsBackEveryWriteAndPropagates()
    {
        using var connection = Open();
        var failure = new InvalidOperationException("agent crashed");

        var thrown = Assert.Throws<InvalidOperationException>(() => SqliteTransactions.Run(connection, TransactionKind.Immediate, (c, _) =>
        {
            InsertFamily(c, "first");
            InsertFamily(c, "second");
            throw failure;
        }, TestContext.Current.CancellationToken));

        Assert.Same(failure, thrown);
        Assert.False(SqliteConnections.InTransaction(connection));
        Assert.Equal(0, Rows("parents"));
        Assert.Equal(0, Rows("children"));
    }

    [Fact]
    public void CancellationInsideTheUnitRollsBackEvenWhenTheUnitReturns()
    {
        using var connection = Open();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        Assert.ThrowsAny<OperationCanceledException>(() => SqliteTransactions.Run(connection, TransactionKind.Immediate, (c, _) =>
        {
            InsertFamily(c, "cancelled");
            cancel.Cancel();
        }, cancel.Token));

        Assert.False(SqliteConnections.InTransaction(connection));
        Assert.Equal(0, Rows("parents"));
    }

    [Fact]
    public void AlreadyCancelledTokenNeverBeginsTheTransaction()
    {
        using var connection = Open();
        var ran = false;

        Assert.ThrowsAny<OperationCanceledException>(() =>
            SqliteTransactions.Run(connection, TransactionKind.Immediate, (_, _) => ran = true, new CancellationToken(canceled: true)));

        Assert.False(ran);
        Assert.False(SqliteConnections.InTransaction(connection));
    }

    [Fact]
    public void ConstraintViolationMidWayRollsBackTheRowsBeforeIt()
    {
        using var connection = Open();

        var error = Assert.Throws<SqliteException>(() => SqliteTransactions.Run(connection, TransactionKind.Immediate, (c, _) =>
        {
            InsertFamily(c, "kept?");
            c.Execute("INSERT INTO children (parent_id, name) VALUES (999, 'orphan')"); // foreign_keys = ON
        }, TestContext.Current.CancellationToken));

        Assert.Equal(ErrorClassifier.SqliteConstraint, error.SqliteErrorCode & 0xFF);
        Assert.Equal(0, Rows("parents"));
        Assert.Equal(0, Rows("children"));
    }

    [Fact]
    public void WhileOneConnectionHoldsBeginExclusiveAnotherBeginImmediateIsBusy()
    {
        using var holder = Open();
        using var other = Open(busyTimeoutMs: 50);
        SqliteException? busy = null;
        var otherRan = false;

        SqliteTransactions.Run(holder, TransactionKind.Exclusive, (c, ct) =>
        {
            InsertFamily(c, "holder");
            busy = Assert.Throws<SqliteException>(() =>
                SqliteTransactions.Run(other, TransactionKind.Immediate, (_, _) => otherRan = true, ct));
        }, TestContext.Current.CancellationToken);

        Assert.NotNull(busy);
        Assert.Equal(ErrorClassifier.SqliteBusy, busy.SqliteErrorCode & 0xFF);
        Assert.False(otherRan);
        Assert.False(SqliteConnections.InTransaction(other));
        Assert.Equal(1, Rows("parents"));

        // Once the holder committed, the other connection writes normally.
        SqliteTransactions.Run(other, TransactionKind.Immediate, (c, _) => InsertFamily(c, "other"), TestContext.Current.CancellationToken);
        Assert.Equal(2, Rows("parents"));
    }

    [Fact]
    public void ImmediateTakesTheWriteLockAtBeginWhileDeferredTakesNoneUntilItWrites()
    {
        using var first = Open();
        using var second = Open(busyTimeoutMs: 50);
        var ct = TestContext.Current.CancellationToken;

        // A deferred transaction that only reads leaves the write lock free.
        SqliteTransactions.Run(first, TransactionKind.Deferred, (c, token) =>
        {
            Assert.Equal(0L, c.ExecuteScalar<long>("SELECT count(*) FROM parents"));
            SqliteTransactions.Run(second, TransactionKind.Immediate, (s, _) => InsertFamily(s, "while deferred"), token);
        }, ct);

        // An immediate transaction holds it from BEGIN on, before writing anything.
        SqliteException? busy = null;
        SqliteTransactions.Run(first, TransactionKind.Immediate, (_, token) =>
            busy = Assert.Throws<SqliteException>(() => SqliteTransactions.Run(second, TransactionKind.Immediate, (_, _) => { }, token)), ct);

        Assert.Equal(ErrorClassifier.SqliteBusy, busy!.SqliteErrorCode & 0xFF);
        Assert.Equal(1, Rows("parents"));
    }

    [Fact]
    public async Task UnitThatThrowsMidWayThroughAMultiTableDualWriteLeavesNoPartialRows()
    {
        await using var db = await TestDatabase.OpenAsync();
        var ct = TestContext.Current.CancellationToken;
        using var lease = await db.Database.Pool.AcquireAsync(ct);
        var reachedEnd = false;

        Assert.Throws<InvalidOperationException>(() => SqliteTransactions.Run(lease.Connection, TransactionKind.Immediate, (c, _) =>
        {
            var now = DateTimeOffset.Parse("2026-02-03T04:05:06Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            ArtifactRepository.Insert(c, SqliteFiles.Artifact(n: 1), now, []);
            ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: "claude", n: 2), now, []);
            Assert.Equal(2L, SqliteFiles.Count(c, "agent_outputs")); // the rows were there inside the transaction
            reachedEnd = true;
            throw new InvalidOperationException("crash between the dual-write and the commit");
        }, ct));

        Assert.True(reachedEnd);
        var counts = SqliteFiles.CountAll(lease.Connection);
        Assert.All(new[] { "consensus_artifacts", "consensus_runs", "agent_outputs", "spec_stages", "specs" }, table => Assert.Equal(0L, counts[table]));
    }

    [Fact]
    public void ConnectionClosedWithoutCommitLikeAKilledProcessPersistsNothing()
    {
        var doomed = SqliteFiles.OpenRaw(_path);
        doomed.Execute("BEGIN IMMEDIATE");
        InsertFamily(doomed, "never committed");
        Assert.Equal(1L, SqliteFiles.Count(doomed, "parents"));

        doomed.Dispose();

        using var survivor = Open(busyTimeoutMs: 50);
        Assert.Equal(0L, SqliteFiles.Count(survivor, "parents"));
        Assert.Equal(0L, SqliteFiles.Count(survivor, "children"));

        // No lock outlives the closed connection.
        SqliteTransactions.Run(survivor, TransactionKind.Immediate, (c, _) => InsertFamily(c, "after"), TestContext.Current.CancellationToken);
        Assert.Equal(1L, SqliteFiles.Count(survivor, "parents"));
    }
}
