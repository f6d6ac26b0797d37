using System.Globalization;
using System.Net;
using System.Text;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>The report as one self-contained HTML page: tables and inline SVG charts, no scripts, nothing fetched.</summary>
public static class HtmlReport
{
    private const string Rps = "#1f77b4";
    private const string P50 = "#2ca02c";
    private const string P99 = "#d62728";
    private const string Memory = "#9467bd";
    private const string Wrk = "#ff7f0e";

    private const string Style = """
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1500px; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; } h3 { font-size: 15px; margin: 18px 0 6px; }
        table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
        th { background: #f4f4f4; } td.text, th.text { text-align: left; }
        .pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 700; }
        .note { fill: #666; font-size: 11px; } .smoke { background: #fff8c5; padding: 8px 12px; border: 1px solid #e6d87a; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; }
        svg { font: 11px system-ui, sans-serif; background: #fff; border: 1px solid #e4e4e4; }
        svg .title { font-size: 13px; font-weight: 600; fill: #222; } svg .grid { stroke: #e8e8e8; } svg .axis { stroke: #999; }
        ul.meta { color: #444; }
        """;

    /// <summary>Renders <paramref name="report"/>.</summary>
    public static string Render(LoadTestReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ConsensusApi load test</title>\n<style>\n")
            .Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append(Invariant($"<h1>ConsensusApi load test: <span class=\"{(report.Passed ? "pass" : "fail")}\">{(report.Passed ? "passed" : "FAILED")}</span></h1>\n"));
        if (report.Smoke)
        {
            html.Append("<p class=\"smoke\">Smoke run: it proves the tool and the service work under load. Its figures are not a benchmark.</p>\n");
        }

        html.Append("<ul class=\"meta\">\n");
        html.Append(Invariant($"<li>Started {report.StartedAt:yyyy-MM-dd HH:mm:ss}Z against {E(report.Url)}{(report.Label is null ? "" : $"; {E(report.Label)}")}</li>\n"));
        html.Append(Invariant($"<li>{E(report.Machine.Host)}: {report.Machine.Cores} cores, {E(report.Machine.Os)}, {E(report.Machine.Runtime)}</li>\n"));
        html.Append(Invariant($"<li>Each scenario: {Format.Number(report.WarmupSeconds)} s warm-up (shaded in the charts, not counted; {Format.Number(report.StartupWarmupSeconds)} s more for the first, as both processes start cold), then {Format.Number(report.DurationSeconds)} s measured</li>\n"));
        html.Append("<li>Latency per HTTP request, successful requests of the measured window (HdrHistogram). Of ceiling: rps over the rps of <code>ceiling</code> (GET /health/live, no database) in the same run.</li>\n");
        html.Append("</ul>\n");

        AppendSummary(html, report);
        AppendThroughputChart(html, report);
        AppendCrossCheck(html, report);
        AppendTimeSeries(html, report);
        AppendThresholds(html, report);
        AppendFailures(html, report);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendSummary(StringBuilder html, LoadTestReport report)
    {
        html.Append("<h2>Summary</h2>\n<table>\n<tr><th class=\"text\">scenario</th><th class=\"text\">model</th><th>load</th><th>requests</th><th>rps</th><th>of ceiling</th>")
            .Append("<th>p50 ms</th><th>p75 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th class=\"text\">errors</th><th>integrity failures</th><th>dropped</th><th>service RSS peak MB</th><th>service CPU</th><th>load gen. CPU</th><th>load avg.</th><th class=\"text\">result</th></tr>\n");
        foreach (var s in report.Scenarios)
        {
            var l = s.Latency;
            html.Append(Invariant($"<tr><td class=\"text\">{E(s.Name)}</td><td class=\"text\">{s.Model}</td><td>{E(Format.Load(s))}</td><td>{Format.Count(s.Requests)}</td><td>{Format.Number(s.Rps)}</td><td>{Format.Percent(s.CeilingFraction)}</td>"))
                .Append(Invariant($"<td>{Format.Ms(l.P50)}</td><td>{Format.Ms(l.P75)}</td><td>{Format.Ms(l.P95)}</td><td>{Format.Ms(l.P99)}</td><td>{Format.Ms(l.Max)}</td>"))
                .Append(Invariant($"<td class=\"text\">{E(Format.Errors(s.ErrorsByStatus))}</td><td>{Format.Count(s.IntegrityFailures)} of {Format.Count(s.IntegrityChecks)}</td><td>{Format.Count(s.Dropped)}</td>"))
                .Append(Invariant($"<td>{Format.Number(s.ServiceMemory?.PeakMb)}</td><td>{Format.Number(s.Cpu.Service)}</td><td>{Format.Number(s.Cpu.LoadGenerator)}</td><td>{Format.Number(s.LoadAverage)}</td>"))
                .Append(Invariant($"<td class=\"text {(s.Passed ? "pass" : "fail")}\">{(s.Passed ? "pass" : "FAIL")}</td></tr>\n"));
        }

        html.Append("</table>\n");
    }

    private static void AppendThroughputChart(StringBuilder html, LoadTestReport report)
    {
        var bars = new List<ChartBar>();
        foreach (var s in report.Scenarios.Where(s => s.Model == "closed"))
        {
            bars.Add(new ChartBar($"{s.Name} (this tool)", s.Rps, Rps, $"{Format.Number(s.Rps)} rps{OfCeiling(s.Name, s.CeilingFraction)}"));
            if (report.Wrk?.FirstOrDefault(w => w.Scenario == s.Name) is { } w)
            {
                bars.Add(new ChartBar($"{w.Scenario} (wrk)", w.Rps, Wrk, $"{Format.Number(w.Rps)} rps{OfCeiling(w.Scenario, w.CeilingFraction)}"));
            }
        }

        if (bars.Count == 0)
        {
            return;
        }

        html.Append("<h2>Throughput (closed model)</h2>\n").Append(SvgChart.Bars("Requests per second, measured window", bars)).Append('\n');
    }

    private static void AppendCrossCheck(StringBuilder html, LoadTestReport report)
    {
        if (report.Wrk is not { Count: > 0 } wrk)
        {
            return;
        }

        html.Append("<h2>Cross-check with wrk</h2>\n<p>The same endpoints loaded by wrk (same connections and duration, one after the other against the same service). They should agree within 25%.</p>\n");
        if (report.CrossChecks is { Count: > 0 } checks)
        {
            html.Append("<table>\n<tr><th class=\"text\">endpoint</th><th>tool rps</th><th>wrk rps</th><th>difference</th><th>tool p50 ms</th><th>wrk p50 ms</th><th>tool p99 ms</th><th>wrk p99 ms</th><th class=\"text\">within 25%</th><th class=\"text\">why not</th></tr>\n");
            foreach (var c in checks)
            {
                html.Append(Invariant($"<tr><td class=\"text\">{E(c.Scenario)}</td><td>{Format.Number(c.ToolRps)}</td><td>{Format.Number(c.WrkRps)}</td><td>{Format.SignedPercent(c.RpsDifference)}</td>"))
                    .Append(Invariant($"<td>{Format.Ms(c.ToolP50)}</td><td>{Format.Ms(c.WrkP50)}</td><td>{Format.Ms(c.ToolP99)}</td><td>{Format.Ms(c.WrkP99)}</td>"))
                    .Append(Invariant($"<td class=\"text\">{(c.WithinTolerance ? "yes" : "no")}</td><td class=\"text\" style=\"white-space: normal; max-width: 520px\">{E(c.Explanation ?? "")}</td></tr>\n"));
            }

            html.Append("</table>\n");
        }

        html.Append("<table>\n<tr><th class=\"text\">wrk run</th><th>connections</th><th>requests</th><th>rps</th><th>p50 ms</th><th>p75 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>non-2xx</th><th>socket errors</th><th>wrk CPU</th><th>service CPU</th><th>service RSS peak MB</th><th>load avg.</th></tr>\n");
        foreach (var w in wrk)
        {
            var l = w.Latency;
            html.Append(Invariant($"<tr><td class=\"text\">{E(w.Scenario)}</td><td>{w.Connections?.ToString(CultureInfo.InvariantCulture) ?? "-"}</td><td>{Format.Count(w.Requests)}</td><td>{Format.Number(w.Rps)}</td>"))
                .Append(Invariant($"<td>{Format.Ms(l.P50)}</td><td>{Format.Ms(l.P75)}</td><td>{Format.Ms(l.P95)}</td><td>{Format.Ms(l.P99)}</td><td>{Format.Ms(l.Max)}</td>"))
                .Append(Invariant($"<td>{Format.Count(w.Non2xx)}</td><td>{Format.Count(w.SocketErrors)}</td><td>{Format.Number(w.LoadGeneratorCpu)}</td><td>{Format.Number(w.ServiceCpu)}</td><td>{Format.Number(w.ServiceMemory?.PeakMb)}</td><td>{Format.Number(w.LoadAverage)}</td></tr>\n"));
        }

        html.Append("</table>\n");
    }

    private static void AppendTimeSeries(StringBuilder html, LoadTestReport report)
    {
        html.Append("<h2>Over time</h2>\n");
        foreach (var s in report.Scenarios)
        {
            var warmup = s.Series.Where(p => p.Warmup).Select(p => p.Second).DefaultIfEmpty(0).Max();
            html.Append(Invariant($"<h3>{E(s.Name)} · {s.Model} · {E(Format.Load(s))}</h3>\n<div class=\"charts\">\n"));
            html.Append(SvgChart.Lines(
                    "Throughput, requests per second",
                    [new ChartLine("rps", Rps, s.Series.Select(p => (p.Second, p.Rps)).ToList())],
                    warmup))
                .Append('\n');
            html.Append(SvgChart.Lines(
                    "Latency, ms",
                    [
                        new ChartLine("p50", P50, s.Series.Select(p => (p.Second, p.P50)).ToList()),
                        new ChartLine("p99", P99, s.Series.Select(p => (p.Second, p.P99)).ToList()),
                    ],
                    warmup))
                .Append('\n');
            if (s.Series.Any(p => p.RssMb is not null))
            {
                html.Append(SvgChart.Lines(
                        "Service memory (VmRSS), MB",
                        [new ChartLine("VmRSS", Memory, s.Series.Where(p => p.RssMb is not null).Select(p => (p.Second, p.RssMb!.Value)).ToList())],
                        warmup))
                    .Append('\n');
            }

            html.Append("</div>\n");
        }
    }

    private static void AppendThresholds(StringBuilder html, LoadTestReport report)
    {
        html.Append("<h2>Thresholds</h2>\n<p>")
            .Append(report.Smoke
                ? "A smoke run enforces only errors = 0 and integrity failures = 0."
                : "Errors = 0 and integrity failures = 0 always apply; the others are the defaults and those given with --threshold.")
            .Append("</p>\n<table>\n<tr><th class=\"text\">scenario</th><th class=\"text\">model</th><th class=\"text\">threshold</th><th>actual</th><th class=\"text\">result</th></tr>\n");
        foreach (var s in report.Scenarios)
        {
            foreach (var t in s.Thresholds)
            {
                var verdict = t.Note ?? Format.Verdict(t.Passed);
                html.Append(Invariant($"<tr><td class=\"text\">{E(s.Name)}</td><td class=\"text\">{s.Model}</td><td class=\"text\"><code>{E(t.Rule)}</code></td><td>{(t.Actual is { } a ? Format.Number(a) : "-")}</td>"))
                    .Append(Invariant($"<td class=\"text {(t.Passed == false ? "fail" : t.Passed == true ? "pass" : "")}\">{E(verdict)}</td></tr>\n"));
            }
        }

        html.Append("</table>\n");
    }

    private static void AppendFailures(StringBuilder html, LoadTestReport report)
    {
        var failing = report.Scenarios.Where(s => s.IntegrityFailures > 0 || s.Errors > 0).ToList();
        if (failing.Count == 0)
        {
            return;
        }

        html.Append("<h2>Errors and integrity failures</h2>\n<ul>\n");
        foreach (var s in failing)
        {
            html.Append(Invariant($"<li><b>{E(s.Name)}/{s.Model}</b>: errors {E(Format.Errors(s.ErrorsByStatus))}; integrity failures {Format.Count(s.IntegrityFailures)} of {Format.Count(s.IntegrityChecks)}<ul>"));
            foreach (var message in s.IntegrityMessages)
            {
                html.Append("<li>").Append(E(message)).Append("</li>");
            }

            html.Append("</ul></li>\n");
        }

        html.Append("</ul>\n");
    }

    private static string OfCeiling(string scenario, double? fraction) =>
        fraction is { } f && scenario != "ceiling" ? $", {Format.Percent(f)} of ceiling" : "";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
