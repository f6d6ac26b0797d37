using Microsoft.Data.Sqlite;

namespace ConsensusApi.Benchmarks;

/// <summary>Statements prepared once and bound by position, as the baselines use them.</summary>
internal static class PreparedCommands
{
    public static SqliteCommand Prepare(this SqliteConnection connection, string sql, params string[] names)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter(name, null));
        }

        command.Prepare();
        return command;
    }

    public static SqliteCommand Bind(this SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command;
    }
}
