using System.Text.Json;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>Artifacts written before the load for the read and get scenarios, with what each should read back as.</summary>
public sealed class SeedData
{
    /// <summary>The spec they belong to.</summary>
    public required string SpecId { get; init; }

    /// <summary>The stage they belong to.</summary>
    public required string Stage { get; init; }

    /// <summary>Their ids, in the order they were written.</summary>
    public required IReadOnlyList<long> Ids { get; init; }

    /// <summary>The content each was written with.</summary>
    public required IReadOnlyDictionary<long, JsonElement> Contents { get; init; }
}
