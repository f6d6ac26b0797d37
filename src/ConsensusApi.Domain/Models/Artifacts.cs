using System.Text.Json;

namespace ConsensusApi.Domain.Models;

/// <summary>One agent's output for a spec and stage, as a client sends it.</summary>
public sealed record ArtifactRequest
{
    /// <summary>Spec identifier, e.g. <c>SPEC-KIT-945</c>.</summary>
    public string? SpecId { get; init; }

    /// <summary>Stage name, e.g. <c>spec-plan</c>.</summary>
    public string? Stage { get; init; }

    /// <summary>The agent that answered, e.g. <c>gemini</c>.</summary>
    public string? AgentName { get; init; }

    /// <summary>Any JSON value except null.</summary>
    public JsonElement? Content { get; init; }

    /// <summary>Raw model response.</summary>
    public string? ResponseText { get; init; }

    /// <summary>Model version, e.g. <c>gemini-2.5-pro</c>.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>Client correlation id of the pipeline run.</summary>
    public string? PipelineRunId { get; init; }

    /// <summary>Run the output belongs to (Unix ms); now when omitted.</summary>
    public long? RunTimestamp { get; init; }
}

/// <summary>A batch of artifacts stored all or nothing.</summary>
public sealed record ArtifactBatchRequest
{
    /// <summary>The artifacts, stored in this order.</summary>
    public IReadOnlyList<ArtifactRequest>? Items { get; init; }
}

/// <summary>A stored agent output.</summary>
public sealed record Artifact
{
    /// <summary>Identifier, shared by the legacy and the normalized row.</summary>
    public required long Id { get; init; }

    /// <summary>The consensus run it belongs to.</summary>
    public required long RunId { get; init; }

    /// <summary>The run's timestamp (Unix ms).</summary>
    public required long RunTimestamp { get; init; }

    /// <summary>Spec identifier.</summary>
    public required string SpecId { get; init; }

    /// <summary>Stage name.</summary>
    public required string Stage { get; init; }

    /// <summary>Agent name.</summary>
    public required string AgentName { get; init; }

    /// <summary>Model version, when sent.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>The JSON value that was sent.</summary>
    public required JsonElement Content { get; init; }

    /// <summary>Raw model response, when sent.</summary>
    public string? ResponseText { get; init; }

    /// <summary>Pipeline correlation id, when sent.</summary>
    public string? PipelineRunId { get; init; }

    /// <summary>When it was stored (UTC).</summary>
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Artifacts of a batch, in request order.</summary>
public sealed record ArtifactBatch(IReadOnlyList<Artifact> Items);
