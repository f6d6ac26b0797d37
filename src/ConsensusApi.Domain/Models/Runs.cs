using System.Text.Json;

namespace ConsensusApi.Domain.Models;

/// <summary>Insert-or-update of a consensus run keyed by spec, stage and run timestamp.</summary>
public sealed record RunUpsertRequest
{
    /// <summary>Spec identifier.</summary>
    public string? SpecId { get; init; }

    /// <summary>Stage name.</summary>
    public string? Stage { get; init; }

    /// <summary>Run timestamp (Unix ms).</summary>
    public long? RunTimestamp { get; init; }

    /// <summary>Whether the agents agreed.</summary>
    public bool? ConsensusOk { get; init; }

    /// <summary>Only two of three agents agreed; false on insert when omitted, kept on update.</summary>
    public bool? Degraded { get; init; }

    /// <summary>Any JSON object; null on insert when omitted, kept on update.</summary>
    public JsonElement? Synthesis { get; init; }
}

/// <summary>A consensus run.</summary>
public sealed record Run
{
    /// <summary>Row id.</summary>
    public required long Id { get; init; }

    /// <summary>Spec identifier.</summary>
    public required string SpecId { get; init; }

    /// <summary>Stage name.</summary>
    public required string Stage { get; init; }

    /// <summary>Run timestamp (Unix ms).</summary>
    public required long RunTimestamp { get; init; }

    /// <summary>Whether the agents agreed.</summary>
    public required bool ConsensusOk { get; init; }

    /// <summary>Only two of three agents agreed.</summary>
    public required bool Degraded { get; init; }

    /// <summary>The stored synthesis object, or null.</summary>
    public JsonElement? Synthesis { get; init; }

    /// <summary>The run's outputs, oldest first; null in lists.</summary>
    public IReadOnlyList<Artifact>? Outputs { get; init; }
}

/// <summary>Result of a run upsert.</summary>
/// <param name="Run">The stored run.</param>
/// <param name="Inserted">True when the row was created, false when it was updated.</param>
public sealed record RunUpsertResult(Run Run, bool Inserted);
