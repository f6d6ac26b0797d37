using System.Globalization;
using ConsensusApi.Domain.Models;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Benchmarks;

/// <summary>
/// The floor for the repository: one Microsoft.Data.Sqlite connection with the service's eight
/// pragmas, on the service's schema, running the same dual-write with prepared statements in a
/// transaction per write, and nothing else (no pool, no queue, no retry, no validation).
/// </summary>
public sealed class BareConnection : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _begin;
    private readonly SqliteCommand _commit;
    private readonly SqliteCommand _insertLegacy;
    private readonly SqliteCommand _ensureRun;
    private readonly SqliteCommand _insertOutput;
    private readonly SqliteCommand _insertOutputOnly;
    private readonly SqliteCommand _readBack;
    private readonly SqliteCommand _getById;

    /// <summary>Opens <paramref name="path"/>, a database the service has already migrated.</summary>
    public BareConnection(string path, string journalMode = "WAL")
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        using (var pragmas = _connection.CreateCommand())
        {
            pragmas.CommandText = string.Equals(journalMode, "WAL", StringComparison.OrdinalIgnoreCase)
                ? """
                  PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32000;
                  PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 1073741824; PRAGMA busy_timeout = 5000;
                  """
                : "PRAGMA journal_mode = DELETE; PRAGMA foreign_keys = ON;";
            pragmas.ExecuteNonQuery();
        }

        _begin = _connection.Prepare("BEGIN IMMEDIATE");
        _commit = _connection.Prepare("COMMIT");
        _insertLegacy = _connection.Prepare("""
            INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at)
            VALUES ($s, $g, $a, $c, $r, $p, $t) RETURNING id
            """, "$s", "$g", "$a", "$c", "$r", "$p", "$t");
        _ensureRun = _connection.Prepare("""
            INSERT INTO consensus_runs (spec_id, stage, run_timestamp, consensus_ok, degraded, synthesis_json, created_at)
            VALUES ($s, $g, $ts, 0, 0, NULL, $now)
            ON CONFLICT (spec_id, stage, run_timestamp) DO UPDATE SET spec_id = excluded.spec_id
            RETURNING id
            """, "$s", "$g", "$ts", "$now");
        _insertOutput = _connection.Prepare("""
            INSERT INTO agent_outputs (id, run_id, agent_name, model_version, content, output_timestamp, spec_id, stage, response_text, pipeline_run_id)
            VALUES ($id, $run, $a, $m, $c, $now, $s, $g, $r, $p)
            """, "$id", "$run", "$a", "$m", "$c", "$now", "$s", "$g", "$r", "$p");
        _insertOutputOnly = _connection.Prepare("""
            INSERT INTO agent_outputs (run_id, agent_name, model_version, content, output_timestamp, spec_id, stage, response_text, pipeline_run_id)
            VALUES ($run, $a, $m, $c, $now, $s, $g, $r, $p)
            """, "$run", "$a", "$m", "$c", "$now", "$s", "$g", "$r", "$p");
        _readBack = _connection.Prepare("""
            SELECT l.spec_id, l.stage, l.agent_name, l.content_json, l.response_text, l.run_id, l.created_at,
                   o.id, o.spec_id, o.stage, o.agent_name, o.content, o.response_text, o.pipeline_run_id, o.output_timestamp, r.spec_id, r.stage
            FROM consensus_artifacts l LEFT JOIN agent_outputs o ON o.id = l.id LEFT JOIN consensus_runs r ON r.id = o.run_id
            WHERE l.id = $id
            """, "$id");
        _getById = _connection.Prepare("""
            SELECT o.id, o.run_id, r.run_timestamp, o.spec_id, o.stage, o.agent_name, o.model_version, o.content, o.response_text, o.pipeline_run_id, o.output_timestamp
            FROM agent_outputs o JOIN consensus_runs r ON r.id = o.run_id WHERE o.id = $id
            """, "$id");
    }

    /// <summary>The same dual-write as the repository: legacy row, run, normalized row, read-back of both.</summary>
    public long DualWrite(ArtifactRequest request)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var content = request.Content!.Value.GetRawText();
        _begin.ExecuteNonQuery();
        try
        {
            var id = (long)_insertLegacy.Bind(request.SpecId, request.Stage, request.AgentName, content, request.ResponseText, request.PipelineRunId,
                DateTimeOffset.FromUnixTimeMilliseconds(now).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).ExecuteScalar()!;
            var run = (long)_ensureRun.Bind(request.SpecId, request.Stage, request.RunTimestamp, now).ExecuteScalar()!;
            _insertOutput.Bind(id, run, request.AgentName, request.ModelVersion, content, now, request.SpecId, request.Stage, request.ResponseText, request.PipelineRunId)
                .ExecuteNonQuery();
            using (var reader = _readBack.Bind(id).ExecuteReader())
            {
                reader.Read();
            }

            _commit.ExecuteNonQuery();
            return id;
        }
        catch
        {
            using var rollback = _connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
            throw;
        }
    }

    /// <summary>Only the normalized rows: run and output, no legacy twin, no read-back.</summary>
    public long SingleSchemaWrite(ArtifactRequest request)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _begin.ExecuteNonQuery();
        var run = (long)_ensureRun.Bind(request.SpecId, request.Stage, request.RunTimestamp, now).ExecuteScalar()!;
        var rows = _insertOutputOnly.Bind(run, request.AgentName, request.ModelVersion, request.Content!.Value.GetRawText(), now, request.SpecId, request.Stage,
            request.ResponseText, request.PipelineRunId).ExecuteNonQuery();
        _commit.ExecuteNonQuery();
        return rows;
    }

    /// <summary>A point select of one artifact by id.</summary>
    public string? GetById(long id)
    {
        using var reader = _getById.Bind(id).ExecuteReader();
        return reader.Read() ? reader.GetString(7) : null;
    }

    public void Dispose() => _connection.Dispose();


}
