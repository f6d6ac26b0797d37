using System.Globalization;

namespace ConsensusApi.Domain.Storage;

/// <summary>The legacy tables' <c>created_at</c> text: UTC <c>YYYY-MM-DD HH:MM:SS</c>.</summary>
internal static class LegacyTime
{
    public static string Format(long unixMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>SQL expression turning a legacy <c>created_at</c> column into Unix milliseconds (0 when unreadable).</summary>
    public static string ToMilliseconds(string column) =>
        $"(coalesce(CAST(strftime('%s', {column}) AS INTEGER), 0) * 1000 + coalesce(CAST(substr(strftime('%f', {column}), 4) AS INTEGER), 0))";
}
