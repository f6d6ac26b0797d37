using ConsensusApi.LoadTests.Reports;

namespace ConsensusApi.LoadTests;

/// <summary>Applies the ceiling and the thresholds to a run's scenario results.</summary>
public static class Thresholds
{
    /// <summary>
    /// Adds each closed-model scenario's fraction of the ceiling, then evaluates: errors and integrity
    /// failures always; in a full run also the defaults and the command line's thresholds (which replace
    /// a default of the same scenario and metric).
    /// </summary>
    public static IReadOnlyList<ScenarioResult> Apply(IReadOnlyList<ScenarioResult> results, LoadTestOptions options)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(options);
        var ceiling = results.FirstOrDefault(r => r.Name == "ceiling" && r.Model == "closed" && r.Rps > 0)?.Rps;
        return results.Select(result =>
        {
            var withCeiling = result with
            {
                CeilingFraction = ceiling is { } c && result.Model == "closed" ? Math.Round(result.Rps / c, 3) : null,
            };
            var model = result.Model == "closed" ? LoadModel.Closed : LoadModel.Open;
            var outcomes = RulesFor(result.Name, model, options).Select(rule => rule.Evaluate(withCeiling)).ToList();
            if (options.Smoke)
            {
                outcomes.AddRange(options.Thresholds
                    .Where(rule => rule.AppliesTo(result.Name, model))
                    .Select(rule => new ThresholdOutcome(rule.Text, null, null, "not enforced in a smoke run")));
            }

            return withCeiling with { Thresholds = outcomes, Passed = outcomes.All(o => o.Passed != false) };
        }).ToList();
    }

    /// <summary>Each failed threshold, as "scenario/model rule (actual)".</summary>
    public static IEnumerable<string> Failures(LoadTestReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Scenarios.SelectMany(s => s.Thresholds
            .Where(t => t.Passed == false)
            .Select(t => $"{s.Name}/{s.Model} {t.Rule} (was {t.Actual?.ToString(System.Globalization.CultureInfo.InvariantCulture)})"));
    }

    private static IEnumerable<ThresholdRule> RulesFor(string scenario, LoadModel model, LoadTestOptions options)
    {
        var always = ThresholdRule.ParseList($"{scenario}:errors=0,integrity=0");
        if (options.Smoke)
        {
            return always;
        }

        var given = options.Thresholds.Where(rule => rule.AppliesTo(scenario, model)).ToList();
        var defaults = ThresholdRule.Defaults.Where(rule => rule.AppliesTo(scenario, model) && given.All(g => g.Metric != rule.Metric));
        return [.. always, .. defaults, .. given];
    }
}
