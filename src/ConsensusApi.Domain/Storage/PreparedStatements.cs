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

    /// <summary>The command for <paramref name="sql"/> on <paramref name="connection"/>, with its parameters in the given order.</summary>
    public static SqliteCommand Get(SqliteConnection connection, string sql, params ReadOnlySpan<string> parameters)
    {
        var cache = Caches.GetValue(connection, _ => new Dictionary<string, SqliteCommand>(StringComparer.Ordinal));
        if (cache.TryGetValue(sql, out var command))
        {
            return command;
        }

        command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter(name, null));
        }

        cache[sql] = command;
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
    public static List<T> QueryPrepared<T>(this SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = Get(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        // Dapper builds a row parser per call to Parse; one per statement and type is built once.
        var parser = (Func<System.Data.Common.DbDataReader, T>)RowParsers.GetValue(command, _ => new Dictionary<Type, Delegate>())
            .GetValueOrAdd(typeof(T), () => reader.GetRowParser<T>());
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(parser(reader));
        }

        return rows;
    }

    /// <summary>Runs a prepared query and maps each row with <paramref name="map"/> (hot paths map by ordinal).</summary>
    public static List<T> QueryPrepared<T>(this SqliteConnection connection, string sql, Func<SqliteDataReader, T> map, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = Get(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private static readonly ConditionalWeakTable<SqliteCommand, Dictionary<Type, Delegate>> RowParsers = new();

    private static Delegate GetValueOrAdd(this Dictionary<Type, Delegate> parsers, Type type, Func<Delegate> create)
    {
        if (!parsers.TryGetValue(type, out var parser))
        {
            parser = create();
            parsers[type] = parser;
        }

        return parser;
    }

    private static SqliteCommand Get(SqliteConnection connection, string sql, ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var cache = Caches.GetValue(connection, _ => new Dictionary<string, SqliteCommand>(StringComparer.Ordinal));
        if (!cache.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in parameters)
            {
                command.Parameters.Add(new SqliteParameter(name, null));
            }

            cache[sql] = command;
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
        }

        return command;
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
}
