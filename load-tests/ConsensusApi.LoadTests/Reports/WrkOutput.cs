using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>
/// Reads wrk's output: the standard text (Requests/sec, the --latency table, non-2xx and socket
/// errors) and, when the Lua script's done() printed it, the <c>WRK-RESULT {json}</c> line with
/// p95 and max, which the text table lacks.
/// </summary>
public static partial class WrkOutput
{
    /// <summary>The prefix of the line the Lua scripts print in done().</summary>
    public const string ResultPrefix = "WRK-RESULT ";

    private static readonly string[] SocketErrorKinds = ["connect", "read", "write", "timeout"];

    /// <summary>Parses one wrk run's output; null when it holds no result (wrk failed).</summary>
    public static WrkResult? Parse(string scenario, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var requestsLine = RequestsPattern().Match(text);
        var rpsLine = RpsPattern().Match(text);
        if (!requestsLine.Success || !rpsLine.Success)
        {
            return null;
        }

        var requests = long.Parse(requestsLine.Groups["requests"].Value, CultureInfo.InvariantCulture);
        var seconds = ToMilliseconds(requestsLine.Groups["duration"].Value, requestsLine.Groups["unit"].Value) / 1000;
        var percentiles = LatencyPattern().Matches(text)
            .ToDictionary(m => m.Groups["p"].Value, m => ToMilliseconds(m.Groups["value"].Value, m.Groups["unit"].Value), StringComparer.Ordinal);
        var socket = SocketPattern().Match(text);
        var socketErrors = socket.Success
            ? SocketErrorKinds.Sum(g => long.Parse(socket.Groups[g].Value, CultureInfo.InvariantCulture))
            : 0;
        var non2xx = Non2xxPattern().Match(text) is { Success: true } non ? long.Parse(non.Groups["count"].Value, CultureInfo.InvariantCulture) : 0;
        var connections = ConnectionsPattern().Match(text) is { Success: true } c ? int.Parse(c.Groups["connections"].Value, CultureInfo.InvariantCulture) : (int?)null;
        var maxFromTable = ThreadLatencyPattern().Match(text) is { Success: true } t ? ToMilliseconds(t.Groups["max"].Value, t.Groups["unit"].Value) : 0;
        var meanFromTable = ThreadLatencyPattern().Match(text) is { Success: true } m2 ? ToMilliseconds(m2.Groups["avg"].Value, m2.Groups["avgUnit"].Value) : 0;

        var latency = new LatencySummary(
            percentiles.GetValueOrDefault("50"),
            percentiles.GetValueOrDefault("75"),
            0,
            percentiles.GetValueOrDefault("99"),
            maxFromTable,
            meanFromTable);
        var lua = text.Split('\n').FirstOrDefault(line => line.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (lua is not null)
        {
            using var document = JsonDocument.Parse(lua[ResultPrefix.Length..]);
            var root = document.RootElement;
            double Micros(string name) => root.TryGetProperty(name, out var value) ? Math.Round(value.GetDouble() / 1000, 3) : 0;
            latency = new LatencySummary(Micros("p50"), Micros("p75"), Micros("p95"), Micros("p99"), Micros("max"), Micros("mean"));
        }

        return new WrkResult
        {
            Scenario = scenario,
            Connections = connections,
            Requests = requests,
            DurationSeconds = Math.Round(seconds, 2),
            Rps = Math.Round(double.Parse(rpsLine.Groups["rps"].Value, CultureInfo.InvariantCulture), 1),
            Latency = latency,
            Non2xx = non2xx,
            SocketErrors = socketErrors,
        };
    }

    private static double ToMilliseconds(string value, string unit)
    {
        var number = double.Parse(value, CultureInfo.InvariantCulture);
        return Math.Round(unit switch
        {
            "us" => number / 1000,
            "ms" => number,
            "s" => number * 1000,
            "m" => number * 60_000,
            "h" => number * 3_600_000,
            _ => number,
        }, 3);
    }

    [GeneratedRegex(@"^\s*(?<requests>\d+) requests in (?<duration>[\d.]+)(?<unit>us|ms|s|m|h)", RegexOptions.Multiline)]
    private static partial Regex RequestsPattern();

    [GeneratedRegex(@"^Requests/sec:\s+(?<rps>[\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RpsPattern();

    [GeneratedRegex(@"^\s+(?<p>50|75|90|99)%\s+(?<value>[\d.]+)(?<unit>us|ms|s|m|h)\s*$", RegexOptions.Multiline)]
    private static partial Regex LatencyPattern();

    [GeneratedRegex(@"^\s+Latency\s+(?<avg>[\d.]+)(?<avgUnit>us|ms|s|m|h)\s+[\d.]+\w+\s+(?<max>[\d.]+)(?<unit>us|ms|s|m|h)", RegexOptions.Multiline)]
    private static partial Regex ThreadLatencyPattern();

    [GeneratedRegex(@"Socket errors: connect (?<connect>\d+), read (?<read>\d+), write (?<write>\d+), timeout (?<timeout>\d+)")]
    private static partial Regex SocketPattern();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (?<count>\d+)")]
    private static partial Regex Non2xxPattern();

    [GeneratedRegex(@"(?<threads>\d+) threads and (?<connections>\d+) connections")]
    private static partial Regex ConnectionsPattern();
}
