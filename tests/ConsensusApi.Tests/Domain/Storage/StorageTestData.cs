using System.Text.Json;
using ConsensusApi.Domain.Models;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Domain.Storage;

/// <summary>Requests and raw-SQL probes shared by the repository tests.</summary>
internal static class StorageTestData
{
    /// <summary>A fixed start for fake clocks: 2026-11-26T01:02:03.456Z.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 1, 2, 3, 456, TimeSpan.Zero);

    public const string SpecId = "SPEC-KIT-945";
    public const string Stage = "spec-plan";

    public static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static ArtifactRequest Artifact(
        string specId = SpecId,
        string stage = Stage,
        string agentName = "gemini",
        long? runTimestamp = null,
        string content = """{"plan":["a","b"]}""") => new()
        {
            SpecId = specId,
            Stage = stage,
            AgentName = agentName,
            Content = Json(content),
            ResponseText = "raw response",
            ModelVersion = "model-1",
            PipelineRunId = "pipeline-1",
            RunTimestamp = runTimestamp,
        };

    public static SynthesisRequest Synthesis(string specId = SpecId, string stage = Stage, long? runTimestamp = null, string markdown = "# Plan") => new()
    {
        SpecId = specId,
        Stage = stage,
        OutputMarkdown = markdown,
        OutputPath = $"docs/{specId}/plan.md",
        Status = "ok",
        ArtifactsCount = 3,
        Agreements = "all agree",
        Conflicts = "none",
        PipelineRunId = "pipeline-1",
        RunTimestamp = runTimestamp,
    };

    /// <summary>A separate, unpooled connection to the database file, as an outside reader would open it.</summary>
    public static SqliteConnection OpenRaw(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Runs a scalar query on a separate connection.</summary>
    public static long Scalar(string path, string sql, object? parameters = null)
    {
        using var connection = OpenRaw(path);
        return connection.ExecuteScalar<long>(sql, parameters);
    }

    /// <summary>Rows of <paramref name="table"/>, optionally only those of one spec.</summary>
    public static long Count(string path, string table, string? specId = null) =>
        Scalar(path, specId is null ? $"SELECT count(*) FROM {table}" : $"SELECT count(*) FROM {table} WHERE spec_id = @specId", new { specId });
}
