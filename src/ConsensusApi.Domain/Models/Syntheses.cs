namespace ConsensusApi.Domain.Models;

/// <summary>The consensus synthesis for a spec and stage, as a client sends it.</summary>
public sealed record SynthesisRequest
{
    /// <summary>Spec identifier.</summary>
    public string? SpecId { get; init; }

    /// <summary>Stage name.</summary>
    public string? Stage { get; init; }

    /// <summary>The synthesized document.</summary>
    public string? OutputMarkdown { get; init; }

    /// <summary>Where the document was written.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Outcome, e.g. <c>ok</c>.</summary>
    public string? Status { get; init; }

    /// <summary>How many agent outputs were combined.</summary>
    public int? ArtifactsCount { get; init; }

    /// <summary>Where the agents agreed.</summary>
    public string? Agreements { get; init; }

    /// <summary>Where they did not.</summary>
    public string? Conflicts { get; init; }

    /// <summary>Only two of three agents agreed. Default false.</summary>
    public bool? Degraded { get; init; }

    /// <summary>Whether consensus was reached. Default true.</summary>
    public bool? ConsensusOk { get; init; }

    /// <summary>Pipeline correlation id.</summary>
    public string? PipelineRunId { get; init; }

    /// <summary>The run (Unix ms); now when omitted.</summary>
    public long? RunTimestamp { get; init; }
}

/// <summary>A stored synthesis.</summary>
public sealed record Synthesis
{
    /// <summary>Identifier, shared by the legacy and the normalized row.</summary>
    public required long Id { get; init; }

    /// <summary>The run it belongs to.</summary>
    public required long RunId { get; init; }

    /// <summary>Spec identifier.</summary>
    public required string SpecId { get; init; }

    /// <summary>Stage name.</summary>
    public required string Stage { get; init; }

    /// <summary>The synthesized document.</summary>
    public required string OutputMarkdown { get; init; }

    /// <summary>Where the document was written.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Outcome, e.g. <c>ok</c>.</summary>
    public required string Status { get; init; }

    /// <summary>How many agent outputs were combined.</summary>
    public int? ArtifactsCount { get; init; }

    /// <summary>Where the agents agreed.</summary>
    public string? Agreements { get; init; }

    /// <summary>Where they did not.</summary>
    public string? Conflicts { get; init; }

    /// <summary>Only two of three agents agreed.</summary>
    public required bool Degraded { get; init; }

    /// <summary>Whether consensus was reached.</summary>
    public required bool ConsensusOk { get; init; }

    /// <summary>Pipeline correlation id.</summary>
    public string? PipelineRunId { get; init; }

    /// <summary>The run's timestamp (Unix ms).</summary>
    public required long RunTimestamp { get; init; }

    /// <summary>When it was stored (UTC).</summary>
    public required DateTimeOffset CreatedAt { get; init; }
}
