using System.Text.Json.Nodes;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>Request bodies of the contract, valid unless a test changes them.</summary>
public static class Requests
{
    public const string SpecId = "SPEC-KIT-945";
    public const string Stage = "spec-plan";
    public const long RunTimestamp = 1764118923456;

    /// <summary>An artifact request; <paramref name="content"/> is JSON text.</summary>
    public static JsonObject Artifact(
        string specId = SpecId,
        string stage = Stage,
        string agentName = "gemini",
        string content = """{"plan":["a","b"],"score":0.5}""",
        long? runTimestamp = null)
    {
        var request = new JsonObject
        {
            ["specId"] = specId,
            ["stage"] = stage,
            ["agentName"] = agentName,
            ["content"] = JsonNode.Parse(content),
        };
        if (runTimestamp is { } timestamp)
        {
            request["runTimestamp"] = timestamp;
        }

        return request;
    }

    /// <summary>A batch of <paramref name="items"/>.</summary>
    public static JsonObject Batch(params JsonObject[] items) => new() { ["items"] = new JsonArray([.. items]) };

    /// <summary>A run upsert.</summary>
    public static JsonObject Run(string specId = SpecId, string stage = Stage, long runTimestamp = RunTimestamp, bool consensusOk = true) => new()
    {
        ["specId"] = specId,
        ["stage"] = stage,
        ["runTimestamp"] = runTimestamp,
        ["consensusOk"] = consensusOk,
    };

    /// <summary>A synthesis.</summary>
    public static JsonObject Synthesis(string specId = SpecId, string stage = Stage, long? runTimestamp = RunTimestamp, string outputMarkdown = "# Plan\n\n1. Do it.")
    {
        var request = new JsonObject
        {
            ["specId"] = specId,
            ["stage"] = stage,
            ["outputMarkdown"] = outputMarkdown,
            ["outputPath"] = $"docs/{specId}/plan.md",
            ["status"] = "ok",
            ["artifactsCount"] = 3,
            ["agreements"] = "All agree on the plan.",
            ["conflicts"] = "None.",
            ["pipelineRunId"] = "pipeline-7",
        };
        if (runTimestamp is { } timestamp)
        {
            request["runTimestamp"] = timestamp;
        }

        return request;
    }

    /// <summary>The list route of a stage's artifacts.</summary>
    public static string ArtifactsOf(string specId = SpecId, string stage = Stage) => $"/api/v1/specs/{specId}/stages/{stage}/artifacts";

    /// <summary>The list route of a stage's runs.</summary>
    public static string RunsOf(string specId = SpecId, string stage = Stage) => $"/api/v1/specs/{specId}/stages/{stage}/runs";
}
