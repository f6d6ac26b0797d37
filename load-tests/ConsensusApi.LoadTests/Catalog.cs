using ConsensusApi.LoadTests.Engine;
using ConsensusApi.LoadTests.Scenarios;

namespace ConsensusApi.LoadTests;

/// <summary>The scenarios this tool knows.</summary>
public static class Catalog
{
    /// <summary>All scenario names, in their default order (the ceiling first, so the others can be set against it).</summary>
    public static IReadOnlyList<string> Names { get; } = ["ceiling", "write", "read", "get", "mixed", "workflow"];

    /// <summary>Scenarios that need seeded artifacts.</summary>
    public static IReadOnlyList<string> Seeded { get; } = ["read", "get"];

    /// <summary>A fresh instance of the named scenario (one per run, since scenarios keep samples).</summary>
    public static Scenario Create(string name) => name switch
    {
        "ceiling" => new CeilingScenario(),
        "write" => new WriteScenario(),
        "read" => new ReadScenario(),
        "get" => new GetScenario(),
        "mixed" => new MixedScenario(),
        "workflow" => new WorkflowScenario(),
        _ => throw new ArgumentException($"Unknown scenario '{name}'.", nameof(name)),
    };
}
