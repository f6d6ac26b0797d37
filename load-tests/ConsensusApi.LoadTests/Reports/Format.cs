using System.Globalization;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>Numbers as the reports show them.</summary>
internal static class Format
{
    public static string Number(double value) => value.ToString(value >= 100 ? "#,0" : "0.##", CultureInfo.InvariantCulture);

    public static string Number(double? value) => value is { } v ? Number(v) : "-";

    public static string Count(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    public static string Count(long? value) => value is { } v ? Count(v) : "-";

    public static string Ms(double value) => value.ToString(value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "-";

    public static string SignedPercent(double fraction) => (fraction * 100).ToString("+0.#;-0.#;0", CultureInfo.InvariantCulture) + "%";

    public static string Load(Reports.ScenarioResult result) =>
        result.VirtualUsers is { } users ? $"{users} VUs" : $"{Number(result.Rate ?? 0)}/s";

    public static string Errors(IReadOnlyDictionary<string, long> errors) =>
        errors.Count == 0 ? "0" : string.Join(", ", errors.Select(e => $"{e.Key}: {Count(e.Value)}"));

    public static string Verdict(bool? passed) => passed switch
    {
        true => "pass",
        false => "FAIL",
        null => "-",
    };
}
