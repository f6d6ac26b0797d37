using System.Globalization;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>
/// Adds run.sh's wrk runs and its record of the service's memory to a finished run's report, and sets
/// this tool's figures beside wrk's.
/// </summary>
/// <remarks>
/// Files, in the run's folder: <c>wrk/&lt;scenario&gt;.txt</c> (wrk's output), <c>wrk/&lt;scenario&gt;.env</c>
/// (<c>start_ms</c>, <c>end_ms</c>, <c>cpu_seconds</c>, <c>command</c>) and <c>service-rss.tsv</c>
/// (Unix milliseconds and VmRSS in kB, one sample a line).
/// </remarks>
public static class CrossCheckReport
{
    /// <summary>The agreement asked of the two tools.</summary>
    public const double Tolerance = 0.25;

    /// <summary>Rewrites the reports in <paramref name="folder"/> with wrk's figures and the memory record.</summary>
    public static async Task<LoadTestReport> MergeAsync(string folder, CancellationToken cancellationToken)
    {
        var report = await ReportWriter.ReadAsync(folder, cancellationToken);
        var rss = ReadRss(Path.Combine(folder, "service-rss.tsv"));
        var wrk = new List<WrkResult>();
        var wrkFolder = Path.Combine(folder, "wrk");
        foreach (var scenario in Catalog.Names)
        {
            var output = Path.Combine(wrkFolder, scenario + ".txt");
            if (!File.Exists(output))
            {
                continue;
            }

            var result = WrkOutput.Parse(scenario, await File.ReadAllTextAsync(output, cancellationToken));
            if (result is null)
            {
                continue;
            }

            var env = ReadEnv(Path.Combine(wrkFolder, scenario + ".env"));
            var during = env.TryGetValue("start_ms", out var start) && env.TryGetValue("end_ms", out var end)
                ? rss.Where(s => s.At >= long.Parse(start, CultureInfo.InvariantCulture) && s.At <= long.Parse(end, CultureInfo.InvariantCulture)).Select(s => s.Mb).ToList()
                : [];
            wrk.Add(result with
            {
                Command = env.GetValueOrDefault("command"),
                LoadGeneratorCpu = env.TryGetValue("cpu_seconds", out var cpu) && result.DurationSeconds > 0
                    ? Math.Round(double.Parse(cpu, CultureInfo.InvariantCulture) / result.DurationSeconds, 2)
                    : null,
                LoadAverage = env.TryGetValue("load_average", out var load) && double.TryParse(load, CultureInfo.InvariantCulture, out var average) ? average : null,
                ServiceCpu = env.TryGetValue("service_cpu_seconds", out var serviceCpu) && result.DurationSeconds > 0
                    ? Math.Round(double.Parse(serviceCpu, CultureInfo.InvariantCulture) / result.DurationSeconds, 2)
                    : null,
                ServiceMemory = during.Count == 0 ? null : new MemorySummary(during[0], during.Max(), during[^1], 0, during.Count),
            });
        }

        var wrkCeiling = wrk.FirstOrDefault(w => w.Scenario == "ceiling")?.Rps;
        wrk = wrk.Select(w => w with { CeilingFraction = wrkCeiling is { } c && c > 0 ? Math.Round(w.Rps / c, 3) : null }).ToList();
        var all = rss.Select(s => s.Mb).ToList();
        report = report with
        {
            Wrk = wrk.Count == 0 ? null : wrk,
            CrossChecks = wrk.Count == 0 ? null : Compare(report, wrk),
            WholeRunMemory = all.Count == 0 ? null : new MemorySummary(all[0], all.Max(), all[^1], Math.Round(all[^1] - all[0], 1), all.Count),
        };
        await ReportWriter.WriteAsync(report, folder, cancellationToken);
        return report;
    }

    /// <summary>One comparison per endpoint both loaded (this tool's closed model).</summary>
    public static IReadOnlyList<CrossCheck> Compare(LoadTestReport report, IReadOnlyList<WrkResult> wrk)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(wrk);
        var checks = new List<CrossCheck>();
        foreach (var w in wrk)
        {
            var tool = report.Scenarios.FirstOrDefault(s => s.Name == w.Scenario && s.Model == "closed");
            if (tool is null || w.Rps <= 0)
            {
                continue;
            }

            var difference = Math.Round((tool.Rps - w.Rps) / w.Rps, 3);
            var within = Math.Abs(difference) <= Tolerance;
            checks.Add(new CrossCheck(
                w.Scenario, tool.Rps, w.Rps, difference, tool.Latency.P50, w.Latency.P50, tool.Latency.P99, w.Latency.P99, within,
                within ? null : Explain(report, tool, w, difference)));
        }

        return checks;
    }

    private static string Explain(LoadTestReport report, ScenarioResult tool, WrkResult wrk, double difference)
    {
        var reasons = new List<string>();
        var cores = report.Machine.Cores;
        if (tool.LoadAverage is { } toolLoad && wrk.LoadAverage is { } wrkLoad && Math.Max(toolLoad, wrkLoad) > cores)
        {
            reasons.Add(Invariant(
                $"the machine was busy with other work: its load average was {toolLoad:0.#} after this tool's run and {wrkLoad:0.#} after wrk's, on {cores} cores"));
        }

        var toolCpuPerRequest = tool.Rps > 0 ? tool.Cpu.LoadGenerator / tool.Rps * 1e6 : 0;
        if (wrk.LoadGeneratorCpu is { } wrkCores && wrk.Rps > 0)
        {
            reasons.Add(Invariant(
                $"this tool spent {toolCpuPerRequest:0} µs of CPU per request and wrk {wrkCores / wrk.Rps * 1e6:0} µs, on the same {cores} cores as the service"));
        }

        if (tool.Cpu.Service is { } service && wrk.ServiceCpu is { } serviceUnderWrk)
        {
            var together = service + tool.Cpu.LoadGenerator;
            reasons.Add(Invariant($"the service got {service:0.##} cores under this tool and {serviceUnderWrk:0.##} under wrk")
                + (together < 0.85 * cores
                    ? Invariant($"; this tool and the service together used {together:0.##} of {cores} cores, so neither was short of CPU of its own making: other work took the rest, or requests waited in this tool's scheduling")
                    : ""));
        }

        if (wrk.Non2xx > 0 || wrk.SocketErrors > 0)
        {
            reasons.Add(Invariant($"wrk saw {wrk.Non2xx} non-2xx responses and {wrk.SocketErrors} socket errors, which it counts as requests"));
        }

        if (tool.Name == "write")
        {
            reasons.Add("the write runs are sequential, so wrk wrote into the database this tool had already grown");
        }

        if (report.Smoke)
        {
            reasons.Add(Invariant($"a smoke run measures only {report.DurationSeconds:0.#} s, too short for steady figures"));
        }

        reasons.Add(difference < 0
            ? "and this tool's HttpClient costs more per request than wrk's C event loop, which shows most on the cheapest endpoints"
            : "and wrk's threads compete with the service's for the same cores");
        return string.Concat(char.ToUpperInvariant(reasons[0][0]).ToString(), reasons[0][1..], reasons.Count > 1 ? "; " + string.Join("; ", reasons.Skip(1)) : "", ".");
    }

    private static List<(long At, double Mb)> ReadRss(string path) => !File.Exists(path)
        ? []
        : File.ReadLines(path)
            .Select(line => line.Split('\t', ' '))
            .Where(parts => parts.Length >= 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out _) && long.TryParse(parts[1], CultureInfo.InvariantCulture, out _))
            .Select(parts => (long.Parse(parts[0], CultureInfo.InvariantCulture), Math.Round(long.Parse(parts[1], CultureInfo.InvariantCulture) / 1024.0, 1)))
            .ToList();

    private static Dictionary<string, string> ReadEnv(string path) => !File.Exists(path)
        ? new Dictionary<string, string>(StringComparer.Ordinal)
        : File.ReadLines(path)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
