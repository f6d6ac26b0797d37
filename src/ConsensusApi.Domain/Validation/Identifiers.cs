using System.Text.RegularExpressions;

namespace ConsensusApi.Domain.Validation;

/// <summary>The identifier rules of the HTTP contract, stated once.</summary>
public static partial class Identifiers
{
    /// <summary>Longest spec id.</summary>
    public const int MaxSpecIdLength = 128;

    /// <summary>Longest stage name.</summary>
    public const int MaxStageLength = 64;

    /// <summary>Longest agent name, model version and pipeline run id.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Largest accepted timestamp: 9999-12-31T23:59:59.999Z in Unix milliseconds.</summary>
    public const long MaxTimestamp = 253_402_300_799_999;

    /// <summary>1-128 chars of <c>[A-Za-z0-9._-]</c>, starting with a letter or digit.</summary>
    public static bool IsSpecId(string? value) => value is not null && SpecIdPattern().IsMatch(value);

    /// <summary>1-64 chars matching <c>^[a-z][a-z0-9._-]*$</c>.</summary>
    public static bool IsStage(string? value) => value is not null && StagePattern().IsMatch(value);

    /// <summary>1-128 chars without control characters.</summary>
    public static bool IsName(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= MaxNameLength && !value.Any(char.IsControl);

    /// <summary>A positive Unix millisecond timestamp no later than year 9999.</summary>
    public static bool IsTimestamp(long value) => value is > 0 and <= MaxTimestamp;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SpecIdPattern();

    [GeneratedRegex(@"^[a-z][a-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex StagePattern();
}
