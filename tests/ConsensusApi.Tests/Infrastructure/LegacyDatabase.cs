using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>Builds a database as the terminal UI created it: legacy tables only, journal DELETE, no auto-vacuum, user_version 0.</summary>
public static class LegacyDatabase
{
    /// <summary>The appendix DDL of DESIGN.md, verbatim.</summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS consensus_artifacts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            spec_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            agent_name TEXT NOT NULL,
            content_json TEXT NOT NULL,
            response_text TEXT,
            run_id TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX IF NOT EXISTS idx_spec_stage ON consensus_artifacts(spec_id, stage);

        CREATE TABLE IF NOT EXISTS consensus_synthesis (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            spec_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            output_markdown TEXT NOT NULL,
            output_path TEXT,
            status TEXT NOT NULL,
            artifacts_count INTEGER,
            agreements TEXT,
            conflicts TEXT,
            degraded BOOLEAN DEFAULT 0,
            run_id TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX IF NOT EXISTS idx_synthesis_spec_stage ON consensus_synthesis(spec_id, stage);
        """;

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
