using System.Globalization;
using System.Text.RegularExpressions;
using ConsensusApi.LoadTests.Reports;

namespace ConsensusApi.LoadTests;

/// <summary>
/// One pass condition on a scenario's figures, such as <c>write:p99&lt;25ms</c>. Latencies are
/// compared in milliseconds, memory in MB, the ceiling metric as a fraction.
/// </summary>
/// <param name="Scenario">The scenario it applies to.</param>
/// <param name="Model">The model it applies to; null for both.</param>
/// <param name="Metric">rps, p50, p75, p95, p99, max, mean, errors, integrity, dropped, late, ceiling, rss or rssGrowth.</param>
/// <param name="Operator">&lt;, &lt;=, &gt;, &gt;= or =.</param>
/// <param name="Limit">The bound, in the metric's unit.</param>
/// <param name="Text">As written, for the report.</param>
public sealed partial record ThresholdRule(string Scenario, LoadModel? Model, string Metric, string Operator, double Limit, string Text)
{
    private static readonly string[] LatencyMetrics = ["p50", "p75", "p95", "p99", "max", "mean"];
    private static readonly string[] CountMetrics = ["errors", "integrity", "dropped", "late"];
    private static readonly string[] MemoryMetrics = ["rss", "rssGrowth"];

    /// <summary>
    /// Defaults of a full run. Generous on purpose: they catch a broken or badly regressed service on a
    /// small shared machine; the speed targets are given with --threshold by whoever runs the benchmark.
    /// </summary>
    public static IReadOnlyList<ThresholdRule> Defaults { get; } =
    [
        .. ParseList("ceiling:p99<50ms"),
        .. ParseList("get:p99<50ms"),
        .. ParseList("read:p99<100ms"),
        .. ParseList("write:p99<100ms"),
        .. ParseList("mixed:p99<150ms,rss<300MB,rssGrowth<50MB"),
        .. ParseList("workflow:p99<200ms"),
    ];

    /// <summary>Parses <c>scenario[@model]:metric op value[unit],metric op value...</c>.</summary>
    public static IReadOnlyList<ThresholdRule> ParseList(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new CommandLineException($"Threshold '{spec}' must start with a scenario and a colon, e.g. write:p99<25ms.");
        }

        var target = spec[..colon].Trim();
        var at = target.IndexOf('@', StringComparison.Ordinal);
        var scenario = at < 0 ? target : target[..at];
        LoadModel? model = at < 0 ? null : target[(at + 1)..] switch
        {
            "closed" => LoadModel.Closed,
            "open" => LoadModel.Open,
            var other => throw new CommandLineException($"Threshold '{spec}': unknown model '{other}'."),
        };
        if (!Catalog.Names.Contains(scenario))
        {
            throw new CommandLineException($"Threshold '{spec}': unknown scenario '{scenario}'.");
        }

        var rules = new List<ThresholdRule>();
        foreach (var condition in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = ConditionPattern().Match(condition);
            if (!match.Success)
            {
                throw new CommandLineException($"Threshold '{condition}' is not 'metric<value', e.g. p99<25ms or rps>8000.");
            }

            var metric = match.Groups["metric"].Value;
            var number = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            var limit = ToCanonicalUnit(metric, number, match.Groups["unit"].Value, condition);
            rules.Add(new ThresholdRule(scenario, model, metric, match.Groups["op"].Value, limit, $"{target}:{condition}"));
        }

        return rules.Count > 0 ? rules : throw new CommandLineException($"Threshold '{spec}' has no condition.");
    }

    /// <summary>Whether this rule applies to a scenario run in a model.</summary>
    public bool AppliesTo(string scenario, LoadModel model) => Scenario == scenario && (Model is null || Model == model);

    /// <summary>Compares the rule with a scenario's figures; a figure that was not measured neither passes nor fails.</summary>
    public ThresholdOutcome Evaluate(ScenarioResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        double? actual = Metric switch
        {
            "rps" => result.Rps,
            "p50" => result.Latency.P50,
            "p75" => result.Latency.P75,
            "p95" => result.Latency.P95,
            "p99" => result.Latency.P99,
            "max" => result.Latency.Max,
            "mean" => result.Latency.Mean,
            "errors" => result.Errors,
            "integrity" => result.IntegrityFailures,
            "dropped" => result.Dropped,
            "late" => result.Late,
            "ceiling" => result.CeilingFraction,
            "rss" => result.ServiceMemory?.PeakMb,
            "rssGrowth" => result.ServiceMemory?.GrowthMb,
            _ => null,
        };
        if (actual is not { } value)
        {
            return new ThresholdOutcome(Text, null, null, "not measured in this run");
        }

        var passed = Operator switch
        {
            "<" => value < Limit,
            "<=" => value <= Limit,
            ">" => value > Limit,
            ">=" => value >= Limit,
            _ => value == Limit,
        };
        return new ThresholdOutcome(Text, Math.Round(value, 3), passed, null);
    }

    private static double ToCanonicalUnit(string metric, double value, string unit, string condition)
    {
        if (LatencyMetrics.Contains(metric))
        {
            return unit switch
            {
                "" or "ms" => value,
                "us" => value / 1000,
                "s" => value * 1000,
                _ => throw new CommandLineException($"Threshold '{condition}': a latency takes us, ms or s."),
            };
        }

        if (MemoryMetrics.Contains(metric))
        {
            return unit switch
            {
                "" or "MB" => value,
                "KB" => value / 1024,
                "GB" => value * 1024,
                _ => throw new CommandLineException($"Threshold '{condition}': memory takes KB, MB or GB."),
            };
        }

        if (metric == "ceiling")
        {
            return unit switch
            {
                "" => value,
                "%" => value / 100,
                _ => throw new CommandLineException($"Threshold '{condition}': ceiling is a fraction (0.5) or a percentage (50%)."),
            };
        }

        if (metric == "rps" || CountMetrics.Contains(metric))
        {
            return unit.Length == 0 ? value : throw new CommandLineException($"Threshold '{condition}': {metric} takes no unit.");
        }

        throw new CommandLineException(
            $"Threshold '{condition}': unknown metric '{metric}'; use rps, p50, p75, p95, p99, max, mean, errors, integrity, dropped, late, ceiling, rss or rssGrowth.");
    }

    [GeneratedRegex(@"^(?<metric>[A-Za-z][A-Za-z0-9]*)\s*(?<op><=|>=|<|>|=)\s*(?<value>[0-9]+(\.[0-9]+)?)\s*(?<unit>[A-Za-z%]*)$")]
    private static partial Regex ConditionPattern();
}
