using System.Text.Json.Nodes;
using ConsensusApi.Domain.Models;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ConsensusApi.OpenApi;

/// <summary>Examples on the request and response schemas, so Swagger UI's "Try it out" starts from a valid body.</summary>
internal sealed class SchemaExamples : IOpenApiSchemaTransformer
{
    private const long RunTimestamp = 1764118923456;

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var example = ExampleFor(context.JsonTypeInfo.Type);
        if (example is not null)
        {
            schema.Examples = [example];
        }

        return Task.CompletedTask;
    }

    private static JsonObject? ExampleFor(Type type)
    {
        if (type == typeof(ArtifactRequest))
        {
            return ArtifactRequestExample("gemini");
        }

        if (type == typeof(ArtifactBatchRequest))
        {
            return new JsonObject { ["items"] = new JsonArray(ArtifactRequestExample("gemini"), ArtifactRequestExample("claude")) };
        }

        if (type == typeof(Artifact))
        {
            return new JsonObject
            {
                ["id"] = 17, ["runId"] = 5, ["runTimestamp"] = RunTimestamp, ["specId"] = "SPEC-KIT-945", ["stage"] = "spec-plan",
                ["agentName"] = "gemini", ["modelVersion"] = "gemini-2.5-pro", ["content"] = new JsonObject { ["plan"] = new JsonArray("step 1", "step 2") },
                ["responseText"] = "raw model response", ["pipelineRunId"] = "run-2026-11-26-01", ["createdAt"] = "2026-11-26T01:02:03.456Z",
            };
        }

        if (type == typeof(RunUpsertRequest))
        {
            return new JsonObject
            {
                ["specId"] = "SPEC-KIT-945", ["stage"] = "spec-plan", ["runTimestamp"] = RunTimestamp, ["consensusOk"] = true, ["degraded"] = false,
                ["synthesis"] = new JsonObject { ["status"] = "ok", ["agreements"] = "All three agents split the work into the same phases." },
            };
        }

        if (type == typeof(SynthesisRequest))
        {
            return new JsonObject
            {
                ["specId"] = "SPEC-KIT-945", ["stage"] = "spec-plan", ["outputMarkdown"] = "# Plan\n\n1. Storage engine\n2. HTTP service",
                ["outputPath"] = "docs/SPEC-KIT-945/plan.md", ["status"] = "ok", ["artifactsCount"] = 3,
                ["agreements"] = "Phases and order.", ["conflicts"] = "Naming of the retry options.",
                ["degraded"] = false, ["consensusOk"] = true, ["pipelineRunId"] = "run-2026-11-26-01", ["runTimestamp"] = RunTimestamp,
            };
        }

        return null;
    }

    private static JsonObject ArtifactRequestExample(string agent) => new()
    {
        ["specId"] = "SPEC-KIT-945",
        ["stage"] = "spec-plan",
        ["agentName"] = agent,
        ["content"] = new JsonObject { ["plan"] = new JsonArray("step 1", "step 2") },
        ["responseText"] = "raw model response",
        ["modelVersion"] = agent == "gemini" ? "gemini-2.5-pro" : "claude-sonnet-4.5",
        ["pipelineRunId"] = "run-2026-11-26-01",
        ["runTimestamp"] = RunTimestamp,
    };
}
