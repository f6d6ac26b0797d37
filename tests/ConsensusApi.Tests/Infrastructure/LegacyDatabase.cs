using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>Builds a database as the terminal UI created it: legacy tables only, journal DELETE, no auto-vacuum, user_version 0.</summary>
public static class LegacyDatabase
{
    /// <summary>The appendix DDL of DESIGN.md, verbatim (one copy, shared with the generator).</summary>
    public const string Schema = ConsensusApi.Tools.LegacyDatabaseGenerator.LegacyTables;

    /// <summary>Creates the legacy schema at <paramref name="path"/> and runs <paramref name="seed"/> on it.</summary>
    public static void Create(string path, Action<SqliteConnection>? seed = null)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode = DELETE;" + Schema;
            command.ExecuteNonQuery();
        }

        seed?.Invoke(connection);
    }
}
