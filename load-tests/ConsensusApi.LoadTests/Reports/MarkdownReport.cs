using System.Globalization;
using System.Text;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>The report as Markdown.</summary>
public static class MarkdownReport
{
    /// <summary>Renders <paramref name="report"/>.</summary>
    public static string Render(LoadTestReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# ConsensusApi load test: {(report.Passed ? "passed" : "FAILED")}");
        md.AppendLine();
        if (report.Smoke)
        {
            md.AppendLine("> Smoke run: it proves the tool and the service work under load. Its figures are not a benchmark.");
            md.AppendLine();
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"- Started {report.StartedAt:yyyy-MM-dd HH:mm:ss}Z, finished {report.FinishedAt:HH:mm:ss}Z, against {report.Url}");
        if (report.Label is not null)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- Label: {report.Label}");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {report.Machine.Host}, {report.Machine.Cores} cores, {report.Machine.Os}, {report.Machine.Runtime}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Each scenario: {Format.Number(report.WarmupSeconds)} s warm-up (not counted; {Format.Number(report.StartupWarmupSeconds)} s more for the first, as both processes start cold), then {Format.Number(report.DurationSeconds)} s measured");
        if (report.Seed is { } seed)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- Seeded {seed.Count} artifacts into {seed.SpecId}/{seed.Stage} (ids {seed.FirstId}-{seed.LastId}) for read and get");
        }

        md.AppendLine("- Latency is per HTTP request, of successful requests in the measured window (HdrHistogram, microsecond resolution). "
            + "\"Of ceiling\" is rps divided by the `ceiling` scenario's rps (GET /health/live, no database) in the same run.");
        md.AppendLine();

        md.AppendLine("## Summary");
        md.AppendLine();
        md.AppendLine("| scenario | model | load | requests | rps | of ceiling | p50 ms | p75 ms | p95 ms | p99 ms | max ms | errors | integrity failures | service RSS peak MB | result |");
        md.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |");
        foreach (var s in report.Scenarios)
        {
            var l = s.Latency;
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Name} | {s.Model} | {Format.Load(s)} | {Format.Count(s.Requests)} | {Format.Number(s.Rps)} | {Format.Percent(s.CeilingFraction)} | {Format.Ms(l.P50)} | {Format.Ms(l.P75)} | {Format.Ms(l.P95)} | {Format.Ms(l.P99)} | {Format.Ms(l.Max)} | {Format.Errors(s.ErrorsByStatus)} | {Format.Count(s.IntegrityFailures)} of {Format.Count(s.IntegrityChecks)} | {Format.Number(s.ServiceMemory?.PeakMb)} | {(s.Passed ? "pass" : "FAIL")} |");
        }

        md.AppendLine();
        AppendCrossCheck(md, report);
        AppendThresholds(md, report);
        AppendOpenModel(md, report);
        AppendResources(md, report);
        AppendIntegrity(md, report);

        md.AppendLine("## Scenarios");
        md.AppendLine();
        foreach (var s in report.Scenarios.DistinctBy(s => s.Name))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- **{s.Name}**: {s.Description}.");
        }

        md.AppendLine();
        md.AppendLine("The per-second series (rps, p50, p99, errors, service RSS) are in report.json and drawn in report.html.");
        return md.ToString();
    }

    private static void AppendCrossCheck(StringBuilder md, LoadTestReport report)
    {
        if (report.Wrk is not { Count: > 0 } wrk)
        {
            return;
        }

        md.AppendLine("## Cross-check with wrk");
        md.AppendLine();
        md.AppendLine("The same endpoints loaded by wrk (closed model, same connection count and duration, one after the other against the same service). "
            + "This tool's figures are the closed-model rows above. They should agree within 25%.");
        md.AppendLine();
        if (report.CrossChecks is { Count: > 0 } checks)
        {
            md.AppendLine("| endpoint | tool rps | wrk rps | difference | tool p50 ms | wrk p50 ms | tool p99 ms | wrk p99 ms | within 25% |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            foreach (var c in checks)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {c.Scenario} | {Format.Number(c.ToolRps)} | {Format.Number(c.WrkRps)} | {Format.SignedPercent(c.RpsDifference)} | {Format.Ms(c.ToolP50)} | {Format.Ms(c.WrkP50)} | {Format.Ms(c.ToolP99)} | {Format.Ms(c.WrkP99)} | {(c.WithinTolerance ? "yes" : "no")} |");
            }

            md.AppendLine();
            foreach (var c in checks.Where(c => c.Explanation is not null))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- **{c.Scenario}**: {c.Explanation}");
            }

            if (checks.Any(c => c.Explanation is not null))
            {
                md.AppendLine();
            }
        }

        md.AppendLine("| wrk run | connections | requests | seconds | rps | of wrk ceiling | p50 ms | p75 ms | p95 ms | p99 ms | max ms | non-2xx | socket errors | wrk CPU | service CPU | service RSS peak MB | machine load average |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var w in wrk)
        {
            var l = w.Latency;
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {w.Scenario} | {w.Connections?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {Format.Count(w.Requests)} | {Format.Number(w.DurationSeconds)} | {Format.Number(w.Rps)} | {Format.Percent(w.CeilingFraction)} | {Format.Ms(l.P50)} | {Format.Ms(l.P75)} | {Format.Ms(l.P95)} | {Format.Ms(l.P99)} | {Format.Ms(l.Max)} | {Format.Count(w.Non2xx)} | {Format.Count(w.SocketErrors)} | {Format.Number(w.LoadGeneratorCpu)} | {Format.Number(w.ServiceCpu)} | {Format.Number(w.ServiceMemory?.PeakMb)} | {Format.Number(w.LoadAverage)} |");
        }

        md.AppendLine();
    }

    private static void AppendThresholds(StringBuilder md, LoadTestReport report)
    {
        md.AppendLine("## Thresholds");
        md.AppendLine();
        md.AppendLine(report.Smoke
            ? "A smoke run enforces only errors = 0 and integrity failures = 0."
            : "Errors = 0 and integrity failures = 0 always apply; the others are the defaults and the thresholds given with --threshold.");
        md.AppendLine();
        md.AppendLine("| scenario | model | threshold | actual | result |");
        md.AppendLine("| --- | --- | --- | ---: | --- |");
        foreach (var s in report.Scenarios)
        {
            foreach (var t in s.Thresholds)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {s.Name} | {s.Model} | `{t.Rule}` | {(t.Actual is { } a ? Format.Number(a) : "-")} | {(t.Note is null ? Format.Verdict(t.Passed) : t.Note)} |");
            }
        }

        md.AppendLine();
    }

    private static void AppendOpenModel(StringBuilder md, LoadTestReport report)
    {
        var open = report.Scenarios.Where(s => s.Model == "open").ToList();
        if (open.Count == 0)
        {
            return;
        }

        md.AppendLine("## Open model");
        md.AppendLine();
        md.AppendLine("Arrivals start on a fixed schedule whether or not earlier ones have finished. Dropped: not started because the in-flight limit was reached. "
            + "Late: started 10 ms or more after its scheduled time (the load generator fell behind). Both count only in the measured window.");
        md.AppendLine();
        md.AppendLine("| scenario | arrivals/s | iterations | requests | rps | dropped | late |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var s in open)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Name} | {Format.Number(s.Rate)} | {Format.Count(s.Iterations)} | {Format.Count(s.Requests)} | {Format.Number(s.Rps)} | {Format.Count(s.Dropped)} | {Format.Count(s.Late)} |");
        }

        md.AppendLine();
    }

    private static void AppendResources(StringBuilder md, LoadTestReport report)
    {
        md.AppendLine("## Service memory and CPU");
        md.AppendLine();
        if (report.Scenarios.All(s => s.ServiceMemory is null))
        {
            md.AppendLine("The service's process id was not given (--service-pid), so its memory and CPU were not sampled.");
            md.AppendLine();
        }
        else
        {
            md.AppendLine("Resident memory (VmRSS) sampled every second. Growth: mean of the last quarter of the measured samples minus the mean of the first quarter. "
                + "CPU in cores (1.0 = one core busy) over the measured window; the load generator shares the machine with the service. "
                + "The machine's 1-minute load average above its core count means other work was running too.");
            md.AppendLine();
            md.AppendLine("| scenario | model | RSS start MB | RSS peak MB | RSS end MB | growth MB | service CPU | load generator CPU | machine load average |");
            md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var s in report.Scenarios)
            {
                var m = s.ServiceMemory;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {s.Name} | {s.Model} | {Format.Number(m?.StartMb)} | {Format.Number(m?.PeakMb)} | {Format.Number(m?.EndMb)} | {Format.Number(m?.GrowthMb)} | {Format.Number(s.Cpu.Service)} | {Format.Number(s.Cpu.LoadGenerator)} | {Format.Number(s.LoadAverage)} |");
            }

            md.AppendLine();
            foreach (var mixed in report.Scenarios.Where(s => s.Name == "mixed" && s.ServiceMemory is not null))
            {
                var m = mixed.ServiceMemory!;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"Memory during mixed ({mixed.Model}): peak {Format.Number(m.PeakMb)} MB ({(m.PeakMb < 300 ? "under" : "OVER")} the 300 MB target), growth {Format.Number(m.GrowthMb)} MB over {Format.Number(report.DurationSeconds)} s.");
                md.AppendLine();
            }
        }

        if (report.WholeRunMemory is { } whole)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"Over the whole run (this tool and wrk, {whole.Samples} samples from start-up to stop): peak {Format.Number(whole.PeakMb)} MB, at the end {Format.Number(whole.EndMb)} MB.");
            md.AppendLine();
        }
    }

    private static void AppendIntegrity(StringBuilder md, LoadTestReport report)
    {
        var failing = report.Scenarios.Where(s => s.IntegrityFailures > 0 || s.Errors > 0).ToList();
        if (failing.Count == 0)
        {
            return;
        }

        md.AppendLine("## Errors and integrity failures");
        md.AppendLine();
        foreach (var s in failing)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- **{s.Name}/{s.Model}**: errors {Format.Errors(s.ErrorsByStatus)}; integrity failures {Format.Count(s.IntegrityFailures)} of {Format.Count(s.IntegrityChecks)} checks");
            foreach (var message in s.IntegrityMessages)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"  - {message}");
            }
        }

        md.AppendLine();
    }
}
