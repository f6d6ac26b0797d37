namespace ConsensusApi.Domain.Models;

/// <summary>What is stored for one spec, over all its stages.</summary>
public sealed record SpecSummary
{
    /// <summary>Spec identifier.</summary>
    public required string SpecId { get; init; }

    /// <summary>Stages with stored runs, alphabetically.</summary>
    public required IReadOnlyList<string> Stages { get; init; }

    /// <summary>Runs over all stages.</summary>
    public required long RunCount { get; init; }

    /// <summary>Agent outputs over all stages.</summary>
    public required long ArtifactCount { get; init; }

    /// <summary>Newest write of a run, output or synthesis (UTC).</summary>
    public required DateTimeOffset LastActivityAt { get; init; }
}

/// <summary>Rows removed by a spec or stage delete, per table.</summary>
public sealed record DeleteResult(long DeletedRuns, long DeletedArtifacts, long DeletedLegacyArtifacts, long DeletedLegacySyntheses);

/// <summary>One page of a newest-first list.</summary>
/// <param name="Items">The items of this page.</param>
/// <param name="NextCursor">Opaque cursor of the next page, null on the last page.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>Keyset page request: at most <paramref name="Limit"/> items after <paramref name="Cursor"/>.</summary>
public readonly record struct PageRequest(int Limit = PageRequest.DefaultLimit, string? Cursor = null)
{
    /// <summary>
    /// The first page of <see cref="DefaultLimit"/> items. Without this constructor a struct's
    /// <c>new PageRequest()</c> skips the primary constructor's defaults and asks for 0 items.
    /// </summary>
    public PageRequest()
        : this(DefaultLimit)
    {
    }

    /// <summary>Items per page when the client gives no limit.</summary>
    public const int DefaultLimit = 50;

    /// <summary>Largest page.</summary>
    public const int MaxLimit = 500;
}
