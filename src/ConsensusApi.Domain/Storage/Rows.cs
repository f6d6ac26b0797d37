using System.Text.Json;
using ConsensusApi.Domain.Models;

namespace ConsensusApi.Domain.Storage;

/// <summary>Column lists and row shapes shared by the repositories' reads.</summary>
internal static class Rows
{
    /// <summary>Columns of an artifact: <c>agent_outputs o</c> joined to <c>consensus_runs r</c>.</summary>
    public const string ArtifactColumns = """
        o.id AS Id, o.run_id AS RunId, r.run_timestamp AS RunTimestamp, o.spec_id AS SpecId, o.stage AS Stage,
        o.agent_name AS AgentName, o.model_version AS ModelVersion, o.content AS Content, o.response_text AS ResponseText,
        o.pipeline_run_id AS PipelineRunId, o.output_timestamp AS OutputTimestamp
        """;

    /// <summary>Columns of a run: <c>consensus_runs r</c>.</summary>
    public const string RunColumns = """
        r.id AS Id, r.spec_id AS SpecId, r.stage AS Stage, r.run_timestamp AS RunTimestamp,
        r.consensus_ok AS ConsensusOk, coalesce(r.degraded, 0) AS Degraded, r.synthesis_json AS SynthesisJson
        """;

    /// <summary>Parses stored JSON text into a value; text that is not JSON (old writers) comes back as a JSON string.</summary>
    public static JsonElement ParseJson(string text)
    {
        try
        {
            return JsonElement.Parse(text);
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(text);
        }
    }

    public static DateTimeOffset FromUnixMs(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    /// <summary>Maps a row selected with <see cref="ArtifactColumns"/>, by ordinal.</summary>
    public static Artifact ReadArtifact(Microsoft.Data.Sqlite.SqliteDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        RunId = reader.GetInt64(1),
        RunTimestamp = reader.GetInt64(2),
        SpecId = reader.GetString(3),
        Stage = reader.GetString(4),
        AgentName = reader.GetString(5),
        ModelVersion = reader.IsDBNull(6) ? null : reader.GetString(6),
        Content = ParseJson(reader.GetString(7)),
        ResponseText = reader.IsDBNull(8) ? null : reader.GetString(8),
        PipelineRunId = reader.IsDBNull(9) ? null : reader.GetString(9),
        CreatedAt = FromUnixMs(reader.GetInt64(10)),
    };
}

internal sealed class RunRow
{
    public long Id { get; set; }
    public string SpecId { get; set; } = "";
    public string Stage { get; set; } = "";
    public long RunTimestamp { get; set; }
    public long ConsensusOk { get; set; }
    public long Degraded { get; set; }
    public string? SynthesisJson { get; set; }

    public Run ToModel(IReadOnlyList<Artifact>? outputs) => new()
    {
        Id = Id,
        SpecId = SpecId,
        Stage = Stage,
        RunTimestamp = RunTimestamp,
        ConsensusOk = ConsensusOk != 0,
        Degraded = Degraded != 0,
        Synthesis = SynthesisJson is null ? null : Rows.ParseJson(SynthesisJson),
        Outputs = outputs,
    };
}
