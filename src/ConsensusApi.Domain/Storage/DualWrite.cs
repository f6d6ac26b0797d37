using System.Text.Json;
using ConsensusApi.Domain.Telemetry;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Storage;

/// <summary>Result of reading a dual-write back from both schemas.</summary>
/// <param name="Kind"><c>artifact</c> or <c>synthesis</c>.</param>
/// <param name="Id">The shared id of the two rows.</param>
/// <param name="Difference">What differed, or null when both agree.</param>
public sealed record DualWriteCheck(string Kind, long Id, string? Difference);

/// <summary>Dual-write counters.</summary>
/// <param name="Writes">Dual-writes committed.</param>
/// <param name="Validated">Dual-writes read back and compared.</param>
/// <param name="Mismatches">Comparisons that found a difference.</param>
public sealed record DualWriteSnapshot(long Writes, long Validated, long Mismatches)
{
    /// <summary>Mismatches per validation (0 when nothing was validated).</summary>
    public double MismatchRate => Validated == 0 ? 0 : (double)Mismatches / Validated;
}

/// <summary>
/// Counts dual-writes and their validations; a mismatch is logged as an error and counted
/// (<c>dual_write_mismatch</c>). Only committed writes are recorded.
/// </summary>
public sealed class DualWriteTelemetry(ConsensusMetrics metrics, ILogger<DualWriteTelemetry> logger)
{
    private long _writes;
    private long _validated;
    private long _mismatches;

    /// <summary>Current counts.</summary>
    public DualWriteSnapshot Snapshot() => new(Interlocked.Read(ref _writes), Interlocked.Read(ref _validated), Interlocked.Read(ref _mismatches));

    /// <summary>Records committed dual-writes and their checks.</summary>
    public void Record(IEnumerable<DualWriteCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        foreach (var check in checks)
        {
            Interlocked.Increment(ref _writes);
            Interlocked.Increment(ref _validated);
            metrics.DualWrite();
            metrics.DualWriteValidated();
            if (check.Difference is not null)
            {
                Interlocked.Increment(ref _mismatches);
                metrics.DualWriteMismatch();
                StorageLog.DualWriteMismatch(logger, check.Kind, check.Id, check.Difference);
            }
        }
    }
}

/// <summary>Reads a dual-write back from the legacy and the normalized tables and compares them.</summary>
internal static class DualWriteValidator
{
    public static DualWriteCheck CheckArtifact(SqliteConnection connection, long id)
    {
        using var reader = PreparedStatements.Get(connection, ArtifactPairSql, "@id").Bind(id).ExecuteReader();
        string? difference;
        if (!reader.Read())
        {
            difference = "the legacy row is missing";
        }
        else if (reader.IsDBNull(7))
        {
            difference = "the normalized row is missing";
        }
        else
        {
            string? Text(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
            var legacySpecId = Text(0);
            var legacyStage = Text(1);
            difference = FirstDifference(
                ("spec_id", legacySpecId, Text(8)),
                ("stage", legacyStage, Text(9)),
                ("run spec_id", legacySpecId, Text(15)),
                ("run stage", legacyStage, Text(16)),
                ("agent_name", Text(2), Text(10)),
                ("content", Text(3), Text(11)),
                ("response_text", Text(4), Text(12)),
                ("run_id / pipeline_run_id", Text(5), Text(13)),
                ("created_at", Text(6), LegacyTime.Format(reader.GetInt64(14))));
        }

        return new DualWriteCheck("artifact", id, difference);
    }

    private const string ArtifactPairSql = """
        SELECT l.spec_id, l.stage, l.agent_name, l.content_json, l.response_text, l.run_id, l.created_at,
               o.id, o.spec_id, o.stage, o.agent_name, o.content, o.response_text, o.pipeline_run_id, o.output_timestamp,
               r.spec_id, r.stage
        FROM consensus_artifacts l
        LEFT JOIN agent_outputs o ON o.id = l.id
        LEFT JOIN consensus_runs r ON r.id = o.run_id
        WHERE l.id = @id
        """;

    private const string SynthesisPairSql = """
        SELECT l.spec_id AS LegacySpecId, l.stage AS LegacyStage, l.output_markdown AS LegacyOutputMarkdown, l.output_path AS LegacyOutputPath,
               l.status AS LegacyStatus, l.artifacts_count AS LegacyArtifactsCount, l.agreements AS LegacyAgreements,
               l.conflicts AS LegacyConflicts, coalesce(l.degraded, 0) AS LegacyDegraded, l.run_id AS LegacyRunId, l.created_at AS LegacyCreatedAt,
               s.id AS SynthesisId, s.spec_id AS SpecId, s.stage AS Stage, s.output_markdown AS OutputMarkdown, s.output_path AS OutputPath,
               s.status AS Status, s.artifacts_count AS ArtifactsCount, s.agreements AS Agreements, s.conflicts AS Conflicts,
               s.degraded AS Degraded, s.pipeline_run_id AS PipelineRunId, s.created_at AS CreatedAt, r.synthesis_json AS RunSynthesisJson
        FROM consensus_synthesis l
        LEFT JOIN run_syntheses s ON s.id = l.id
        LEFT JOIN consensus_runs r ON r.id = s.run_id
        WHERE l.id = @id
        """;

    public static DualWriteCheck CheckSynthesis(SqliteConnection connection, long id)
    {
        var row = connection.QueryPrepared<SynthesisPair>(SynthesisPairSql, ("@id", id)).FirstOrDefault();
        string? difference = row switch
        {
            null => "the legacy row is missing",
            { SynthesisId: null } => "the normalized row is missing",
            _ => FirstDifference(
                ("spec_id", row.LegacySpecId, row.SpecId),
                ("stage", row.LegacyStage, row.Stage),
                ("output_markdown", row.LegacyOutputMarkdown, row.OutputMarkdown),
                ("output_path", row.LegacyOutputPath, row.OutputPath),
                ("status", row.LegacyStatus, row.Status),
                ("artifacts_count", Text(row.LegacyArtifactsCount), Text(row.ArtifactsCount)),
                ("agreements", row.LegacyAgreements, row.Agreements),
                ("conflicts", row.LegacyConflicts, row.Conflicts),
                ("degraded", Text(row.LegacyDegraded), Text(row.Degraded)),
                ("run_id / pipeline_run_id", row.LegacyRunId, row.PipelineRunId),
                ("created_at", row.LegacyCreatedAt, LegacyTime.Format(row.CreatedAt)),
                ("run synthesis_json", SynthesisJson.Build(row.LegacyOutputMarkdown, row.LegacyOutputPath, row.LegacyStatus, row.LegacyArtifactsCount, row.LegacyAgreements, row.LegacyConflicts), Canonical(row.RunSynthesisJson))),
        };
        return new DualWriteCheck("synthesis", id, difference);
    }

    private static string? FirstDifference(params (string Field, string? Legacy, string? Normalized)[] fields)
    {
        foreach (var (field, legacy, normalized) in fields)
        {
            if (!string.Equals(legacy, normalized, StringComparison.Ordinal))
            {
                return $"{field} differs";
            }
        }

        return null;
    }

    private static string? Text(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? Canonical(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string? Get(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            long? count = root.TryGetProperty("artifacts_count", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt64() : null;
            return SynthesisJson.Build(Get("output_markdown") ?? "", Get("output_path"), Get("status") ?? "", count, Get("agreements"), Get("conflicts"));
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private sealed class SynthesisPair
    {
        public string LegacySpecId { get; set; } = "";
        public string LegacyStage { get; set; } = "";
        public string LegacyOutputMarkdown { get; set; } = "";
        public string? LegacyOutputPath { get; set; }
        public string LegacyStatus { get; set; } = "";
        public long? LegacyArtifactsCount { get; set; }
        public string? LegacyAgreements { get; set; }
        public string? LegacyConflicts { get; set; }
        public long LegacyDegraded { get; set; }
        public string? LegacyRunId { get; set; }
        public string? LegacyCreatedAt { get; set; }
        public long? SynthesisId { get; set; }
        public string? SpecId { get; set; }
        public string? Stage { get; set; }
        public string? OutputMarkdown { get; set; }
        public string? OutputPath { get; set; }
        public string? Status { get; set; }
        public long? ArtifactsCount { get; set; }
        public string? Agreements { get; set; }
        public string? Conflicts { get; set; }
        public long Degraded { get; set; }
        public string? PipelineRunId { get; set; }
        public long CreatedAt { get; set; }
        public string? RunSynthesisJson { get; set; }
    }
}
