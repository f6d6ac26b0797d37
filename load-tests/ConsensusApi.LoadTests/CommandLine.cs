using System.Globalization;
using System.Text;

namespace ConsensusApi.LoadTests;

/// <summary>What the command line asks for.</summary>
public enum Command
{
    /// <summary>Run the load test.</summary>
    Run,

    /// <summary>Rewrite the reports of a finished run, adding wrk's figures and the service's memory record.</summary>
    Report,

    /// <summary>Print a free loopback TCP port.</summary>
    FreePort,

    /// <summary>Print the usage.</summary>
    Help,
}

/// <summary>A command line that cannot be understood.</summary>
public sealed class CommandLineException(string message) : Exception(message);

/// <summary>Parses <c>--name value</c> arguments into <see cref="LoadTestOptions"/>.</summary>
public static class CommandLine
{
    /// <summary>Parses the arguments; throws <see cref="CommandLineException"/> naming the bad one.</summary>
    public static (Command Command, LoadTestOptions Options) Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var command = Command.Run;
        var start = 0;
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            command = args[0] switch
            {
                "run" => Command.Run,
                "report" => Command.Report,
                "free-port" => Command.FreePort,
                "help" => Command.Help,
                _ => throw new CommandLineException($"Unknown command '{args[0]}'."),
            };
            start = 1;
        }

        var options = new LoadTestOptions();
        TimeSpan? duration = null;
        TimeSpan? warmup = null;
        var thresholds = new List<ThresholdRule>();
        for (var i = start; i < args.Count; i++)
        {
            var name = args[i];
            switch (name)
            {
                case "-h" or "--help":
                    return (Command.Help, options);
                case "--smoke":
                    options = options with { Smoke = true };
                    continue;
            }

            if (i + 1 >= args.Count)
            {
                throw new CommandLineException($"{name} needs a value.");
            }

            var value = args[++i];
            switch (name)
            {
                case "--duration":
                    duration = ParseDuration(name, value);
                    break;
                case "--warmup":
                    warmup = ParseDuration(name, value);
                    break;
                case "--threshold":
                    thresholds.AddRange(ThresholdRule.ParseList(value));
                    break;
                case "--thresholds":
                    thresholds.AddRange(ReadThresholdFile(value));
                    break;
                default:
                    options = name switch
                    {
                        "--url" => options with { Url = ParseUrl(value) },
                        "--scenarios" => options with { Scenarios = ParseScenarios(value) },
                        "--model" => options with { Models = ParseModels(value) },
                        "--vus" => options with { VirtualUsers = ParseInt(name, value, 1, 100_000) },
                        "--rate" => ParseRates(options, value),
                        "--max-in-flight" => options with { MaxInFlight = ParseInt(name, value, 1, 1_000_000) },
                        "--out" => options with { OutputFolder = value },
                        "--api-key" => options with { ApiKey = value },
                        "--seed" => options with { SeedCount = ParseInt(name, value, 0, 1_000_000) },
                        "--service-pid" => options with { ServicePid = ParseInt(name, value, 1, int.MaxValue) },
                        "--timeout" => options with { RequestTimeout = ParseDuration(name, value) },
                        "--wait-ready" => options with { WaitReady = ParseDuration(name, value) },
                        "--startup-warmup" => options with { StartupWarmup = ParseDuration(name, value) },
                        "--label" => options with { Label = value },
                        _ => throw new CommandLineException($"Unknown option '{name}'."),
                    };
                    break;
            }
        }

        options = options with
        {
            Duration = duration ?? (options.Smoke ? LoadTestOptions.SmokeDuration : options.Duration),
            Warmup = warmup ?? (options.Smoke ? LoadTestOptions.SmokeWarmup : options.Warmup),
            Thresholds = thresholds,
        };
        if (options.Duration <= TimeSpan.Zero)
        {
            throw new CommandLineException("--duration must be more than zero.");
        }

        if (options.Scenarios.Any(s => s is "read" or "get") && options.SeedCount == 0)
        {
            throw new CommandLineException("The read and get scenarios need seeded artifacts: --seed must be at least 1.");
        }

        return (command, options);
    }

    /// <summary>The usage text, with the default thresholds.</summary>
    public static string Usage()
    {
        var text = new StringBuilder();
        text.AppendLine("""
            ConsensusApi load test: an HTTP client against a running service.

            usage: ConsensusApi.LoadTests [run] [options]
                   ConsensusApi.LoadTests report --out <folder>   (add wrk results and the memory record to a finished run's reports)
                   ConsensusApi.LoadTests free-port

            options:
              --url <url>              service base address (default http://127.0.0.1:5000)
              --scenarios <a,b,...>    ceiling, write, read, get, mixed, workflow (default: all, in that order)
              --model <m>              closed, open or both (default closed)
              --vus <n>                closed model: concurrent virtual users (default 100)
              --rate <r>               open model: arrivals per second, for all scenarios (r) or some (write=800,workflow=5);
                                       defaults: ceiling 2000, get 1000, read 500, write 500, mixed 300, workflow 10
              --max-in-flight <n>      open model: most iterations in flight; arrivals beyond are dropped and counted (default 1000)
              --duration <t>           measured time per scenario and model, e.g. 30, 30s, 2m (default 30s; smoke 5s)
              --warmup <t>             warm-up before each measured window, not counted (default 5s; smoke 1s)
              --startup-warmup <t>     added to the first scenario's warm-up, as both processes start cold (default 5s)
              --out <folder>           where report.md, report.json and report.html go (default load-tests/reports/<UTC time>)
              --api-key <key>          sent as X-Api-Key (a writer key; none when the service runs open)
              --seed <n>               artifacts seeded for read and get (default 1000)
              --threshold <spec>       e.g. write:p99<25ms,rps>8000 or get@open:p95<5ms; repeatable; replaces the default of that metric
              --thresholds <file>      thresholds, one spec a line (# comments)
              --smoke                  5 s per scenario; only errors and integrity failures fail
              --service-pid <pid>      sample the service's memory (VmRSS) and CPU every second
              --timeout <t>            longest wait for one response (default 30s)
              --wait-ready <t>         wait up to t for /health/ready before starting (default: do not wait)
              --label <text>           names the run in the reports

            Metrics for thresholds: rps, p50, p75, p95, p99, max, mean (ms by default; us, ms, s), errors, integrity,
            dropped, late, ceiling (rps as a fraction of the ceiling scenario's, e.g. ceiling>0.5 or ceiling>50%),
            rss and rssGrowth (MB by default; KB, MB, GB). Any error or integrity failure always fails the run.

            Default thresholds (full runs; a smoke run keeps only errors and integrity):
            """);
        foreach (var rule in ThresholdRule.Defaults)
        {
            text.Append("  ").AppendLine(rule.Text);
        }

        return text.ToString();
    }

    private static Uri ParseUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new CommandLineException($"--url '{value}' is not an http(s) address.");

    private static List<string> ParseScenarios(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            throw new CommandLineException("--scenarios names no scenario.");
        }

        var unknown = names.Where(n => !Catalog.Names.Contains(n)).ToList();
        return unknown.Count == 0
            ? names
            : throw new CommandLineException($"Unknown scenario(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Catalog.Names)}.");
    }

    private static List<LoadModel> ParseModels(string value) => value switch
    {
        "closed" => [LoadModel.Closed],
        "open" => [LoadModel.Open],
        "both" or "closed,open" => [LoadModel.Closed, LoadModel.Open],
        "open,closed" => [LoadModel.Open, LoadModel.Closed],
        _ => throw new CommandLineException($"--model '{value}': use closed, open or both."),
    };

    private static LoadTestOptions ParseRates(LoadTestOptions options, string value)
    {
        if (!value.Contains('=', StringComparison.Ordinal))
        {
            return options with { Rate = ParseRate(value) };
        }

        var rates = new Dictionary<string, double>(options.ScenarioRates, StringComparer.Ordinal);
        foreach (var pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (!Catalog.Names.Contains(parts[0]))
            {
                throw new CommandLineException($"--rate names unknown scenario '{parts[0]}'.");
            }

            rates[parts[0]] = ParseRate(parts[1]);
        }

        return options with { ScenarioRates = rates };
    }

    private static double ParseRate(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0 && rate <= 1_000_000
            ? rate
            : throw new CommandLineException($"--rate '{value}' is not a rate between 0 and 1000000 per second.");

    private static int ParseInt(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new CommandLineException($"{name} '{value}' must be a whole number from {min} to {max}.");

    /// <summary>Parses 30, 30s, 1.5s, 500ms or 2m.</summary>
    public static TimeSpan ParseDuration(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var (number, scale) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.Ordinal) => (value[..^2], 0.001),
            _ when value.EndsWith('s') => (value[..^1], 1.0),
            _ when value.EndsWith('m') => (value[..^1], 60.0),
            _ => (value, 1.0),
        };
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0 && amount * scale <= 86_400
            ? TimeSpan.FromSeconds(amount * scale)
            : throw new CommandLineException($"{name} '{value}' is not a duration (30, 30s, 500ms, 2m).");
    }

    private static List<ThresholdRule> ReadThresholdFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new CommandLineException($"--thresholds file '{path}' does not exist.");
        }

        return File.ReadAllLines(path)
            .Select(line => line.Split('#', 2)[0].Trim())
            .Where(line => line.Length > 0)
            .SelectMany(ThresholdRule.ParseList)
            .ToList();
    }
}
