using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// Prepared statements kept per connection for the hot paths. Dapper prepares every command
/// anew (and an insert that fires triggers compiles them each time); a statement kept on its
/// connection is prepared once and only re-bound. SQLite re-prepares it by itself after a
/// schema change.
/// </summary>
internal static class PreparedStatements
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Caches = new();

    // Dapper builds a row parser on every call to Parse; the columns of a statement never change,
    // so one parser per statement and type is built once.
    private static readonly ConcurrentDictionary<(string Sql, Type Type), Delegate> RowParsers = new();

    /// <summary>The command for <paramref name="sql"/> on <paramref name="connection"/>, with its parameters in the given order.</summary>
    public static SqliteCommand Get(SqliteConnection connection, string sql, params ReadOnlySpan<string> parameters)
    {
        var cache = CacheOf(connection);
        if (!cache.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter(name, null));
            }

            cache[sql] = command;
        }

        return command;
    }

    /// <summary>Binds the values, in parameter order.</summary>
    public static SqliteCommand Bind(this SqliteCommand command, params ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command;
    }

    /// <summary>Runs the command and returns the first column of its first row as an integer.</summary>
    public static long ExecuteInt64(this SqliteCommand command) => Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Runs a prepared query and maps its rows with Dapper's row parser. Parameters not used by
    /// the SQL are still bound harmlessly; nulls bind as SQL NULL.
    /// </summary>
    public static List<T> QueryPrepared<T>(this SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        connection.QueryPrepared<T>(sql, int.MaxValue, parameters);

    /// <summary>Like <see cref="QueryPrepared{T}(SqliteConnection, string, ReadOnlySpan{ValueTuple{string, object}})"/>, reading at most <paramref name="maxRows"/> rows.</summary>
    public static List<T> QueryPrepared<T>(this SqliteConnection connection, string sql, int maxRows, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        Func<DbDataReader, T>? parser = null;
        return connection.QueryPrepared(sql, maxRows, reader => (parser ??= (Func<DbDataReader, T>)RowParsers.GetOrAdd((sql, typeof(T)), _ => reader.GetRowParser<T>()))(reader), parameters);
    }

    /// <summary>Runs a prepared query and maps each row with <paramref name="map"/> (hot paths map by ordinal).</summary>
    public static List<T> QueryPrepared<T>(this SqliteConnection connection, string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        connection.QueryPrepared(sql, int.MaxValue, map, parameters);

    /// <summary>
    /// Runs a prepared query and maps at most <paramref name="maxRows"/> rows with <paramref name="map"/>.
    /// Pages are bounded here rather than by <c>LIMIT @take</c>: SQLite plans with the value bound
    /// to a <c>LIMIT</c> parameter, so such a statement is compiled again on every run. The page
    /// queries walk an index in their order, so stopping early reads no more than a LIMIT would.
    /// </summary>
    public static List<T> QueryPrepared<T>(this SqliteConnection connection, string sql, int maxRows, Func<SqliteDataReader, T> map, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        // The names are only needed the first time the statement is seen on this connection.
        if (!CacheOf(connection).TryGetValue(sql, out var command))
        {
            command = Get(connection, sql, Names(parameters));
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
        }

        using var reader = command.ExecuteReader();
        var rows = new List<T>(Math.Min(maxRows, 64));
        while (rows.Count < maxRows && reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>Forgets the statements of a connection that is being closed.</summary>
    public static void Forget(SqliteConnection connection)
    {
        if (Caches.TryGetValue(connection, out var cache))
        {
            foreach (var command in cache.Values)
            {
                command.Dispose();
            }

            Caches.Remove(connection);
        }
    }

    private static Dictionary<string, SqliteCommand> CacheOf(SqliteConnection connection) =>
        Caches.GetValue(connection, _ => new Dictionary<string, SqliteCommand>(StringComparer.Ordinal));

    private static string[] Names(ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var names = new string[parameters.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = parameters[i].Name;
        }

        return names;
    }
}
