using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// Looks into a database file from outside the service, as an operator's sqlite3 would: the
/// integrity checks, the pairing of every legacy row with its normalized twin, the summaries the
/// triggers keep, and plain queries. Connections are read-only and unpooled.
/// </summary>
public static class DatabaseFile
{
    /// <summary>A read-only connection (no pooling, so nothing stays open after the test).</summary>
    public static SqliteConnection OpenReadOnly(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        using var busy = connection.CreateCommand();
        busy.CommandText = "PRAGMA busy_timeout = 10000";
        busy.ExecuteNonQuery();
        return connection;
    }

    /// <summary>The rows of a query as strings, columns joined by '|'.</summary>
    public static IReadOnlyList<string> Rows(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture) ?? "";
            }

            rows.Add(string.Join('|', values));
        }

        return rows;
    }

    /// <summary>One integer.</summary>
    public static long Scalar(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>One integer, from a file.</summary>
    public static long Scalar(string path, string sql)
    {
        using var connection = OpenReadOnly(path);
        return Scalar(connection, sql);
    }

    /// <summary>
    /// Asserts what must hold of the file whatever happened to the process that wrote it:
    /// <c>integrity_check</c> is <c>ok</c>, <c>foreign_key_check</c> finds nothing, every
    /// artifact and synthesis has its twin in the other schema with the same fields, and the
    /// per-spec counts equal the rows.
    /// </summary>
    public static void AssertConsistent(string path)
    {
        using var connection = OpenReadOnly(path);
        Assert.Equal(["ok"], Rows(connection, "PRAGMA integrity_check"));
        Assert.Empty(Rows(connection, "PRAGMA foreign_key_check"));
        Assert.Empty(TwinMismatches(connection));
    }

    /// <summary>Every way a legacy row and its normalized twin (or a summary and its rows) disagree.</summary>
    public static IReadOnlyList<string> TwinMismatches(SqliteConnection connection)
    {
        var found = new List<string>();
        void Check(string what, string sql) => found.AddRange(Rows(connection, sql).Select(row => $"{what}: {row}"));

        Check("legacy artifact without a normalized twin",
            "SELECT l.id FROM consensus_artifacts l WHERE NOT EXISTS (SELECT 1 FROM agent_outputs o WHERE o.id = l.id)");
        Check("normalized artifact without a legacy twin",
            "SELECT o.id FROM agent_outputs o WHERE NOT EXISTS (SELECT 1 FROM consensus_artifacts l WHERE l.id = o.id)");
        Check("artifact twins differ", """
            SELECT l.id FROM consensus_artifacts l JOIN agent_outputs o ON o.id = l.id JOIN consensus_runs r ON r.id = o.run_id
            WHERE l.spec_id IS NOT o.spec_id OR l.stage IS NOT o.stage OR l.agent_name IS NOT o.agent_name
               OR l.content_json IS NOT o.content OR l.response_text IS NOT o.response_text OR l.run_id IS NOT o.pipeline_run_id
               OR r.spec_id IS NOT o.spec_id OR r.stage IS NOT o.stage
            """);
        Check("legacy synthesis without a normalized twin",
            "SELECT l.id FROM consensus_synthesis l WHERE NOT EXISTS (SELECT 1 FROM run_syntheses s WHERE s.id = l.id)");
        Check("normalized synthesis without a legacy twin",
            "SELECT s.id FROM run_syntheses s WHERE NOT EXISTS (SELECT 1 FROM consensus_synthesis l WHERE l.id = s.id)");
        Check("synthesis twins differ", """
            SELECT l.id FROM consensus_synthesis l JOIN run_syntheses s ON s.id = l.id
            WHERE l.spec_id IS NOT s.spec_id OR l.stage IS NOT s.stage OR l.output_markdown IS NOT s.output_markdown
               OR l.output_path IS NOT s.output_path OR l.status IS NOT s.status OR l.artifacts_count IS NOT s.artifacts_count
               OR l.agreements IS NOT s.agreements OR l.conflicts IS NOT s.conflicts OR coalesce(l.degraded, 0) != s.degraded
               OR l.run_id IS NOT s.pipeline_run_id
            """);
        Check("stage summary differs from its rows", """
            SELECT s.spec_id, s.stage, s.run_count, s.artifact_count FROM spec_stages s
            WHERE s.run_count != (SELECT count(*) FROM consensus_runs r WHERE r.spec_id = s.spec_id AND r.stage = s.stage)
               OR s.artifact_count != (SELECT count(*) FROM agent_outputs o WHERE o.spec_id = s.spec_id AND o.stage = s.stage)
            """);
        Check("stage with rows but no summary", """
            SELECT DISTINCT r.spec_id, r.stage FROM consensus_runs r
            WHERE NOT EXISTS (SELECT 1 FROM spec_stages s WHERE s.spec_id = r.spec_id AND s.stage = r.stage)
            """);
        return found;
    }

    /// <summary>SHA-256 of a file's bytes, to show it was not modified.</summary>
    public static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
