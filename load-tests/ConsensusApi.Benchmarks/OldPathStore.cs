using System.Globalization;
using ConsensusApi.Domain.Models;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Benchmarks;

/// <summary>
/// The terminal UI's original storage path, the benchmarks' baseline: one shared connection
/// behind a lock, journal mode DELETE, default pragmas, legacy tables only, statements prepared
/// once on the shared connection.
/// </summary>
public sealed class OldPathStore : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _get;
    private readonly SqliteCommand _list;

    private OldPathStore(string path)
    {
        Path = path;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode = DELETE;" + LegacySchema);
        _insert = _connection.Prepare(
            "INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at) VALUES ($s, $g, $a, $c, $r, $p, $t)",
            "$s", "$g", "$a", "$c", "$r", "$p", "$t");
        _get = _connection.Prepare("SELECT id, spec_id, stage, agent_name, content_json, response_text, run_id, created_at FROM consensus_artifacts WHERE id = $id", "$id");
        _list = _connection.Prepare(
            "SELECT id, spec_id, stage, agent_name, content_json, response_text, run_id, created_at FROM consensus_artifacts WHERE spec_id = $s AND stage = $g ORDER BY created_at DESC, id DESC LIMIT 50",
            "$s", "$g");
    }

    public string Path { get; }

    public static OldPathStore Open(int seed)
    {
        var store = new OldPathStore(System.IO.Path.Combine(BenchmarkDatabase.NewFolder(), "legacy.db"));
        store.Execute("BEGIN");
        for (var n = 0; n < seed; n++)
        {
            store.Store(BenchmarkDatabase.Request(n));
        }

        store.Execute("COMMIT");
        return store;
    }

    public long Store(ArtifactRequest request)
    {
        lock (_gate)
        {
            _insert.Bind(request.SpecId, request.Stage, request.AgentName, request.Content!.Value.GetRawText(), request.ResponseText, request.PipelineRunId,
                DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            _insert.ExecuteNonQuery();
            return 1;
        }
    }

    public string? Get(long id)
    {
        lock (_gate)
        {
            _get.Bind(id);
            using var reader = _get.ExecuteReader();
            return reader.Read() ? reader.GetString(4) : null;
        }
    }

    public int ListNewest50()
    {
        lock (_gate)
        {
            _list.Bind(BenchmarkDatabase.SpecId, BenchmarkDatabase.Stage);
            using var reader = _list.ExecuteReader();
            var count = 0;
            while (reader.Read())
            {
                _ = reader.GetString(4);
                count++;
            }

            return count;
        }
    }

    public void Dispose()
    {
        _connection.Dispose();
        Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true);
    }



    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private const string LegacySchema = """
        CREATE TABLE IF NOT EXISTS consensus_artifacts (
            id INTEGER PRIMARY KEY AUTOINCREMENT, spec_id TEXT NOT NULL, stage TEXT NOT NULL, agent_name TEXT NOT NULL,
            content_json TEXT NOT NULL, response_text TEXT, run_id TEXT, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
        CREATE INDEX IF NOT EXISTS idx_spec_stage ON consensus_artifacts(spec_id, stage);
        """;
}
