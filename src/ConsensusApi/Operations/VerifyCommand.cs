using System.CommandLine;
using ConsensusApi.Domain.Maintenance;

namespace ConsensusApi.Operations;

/// <summary><c>verify</c>: pragmas, schema version, integrity, foreign keys and dual-write consistency of every row.</summary>
internal static class VerifyCommand
{
    private const int MaxListed = 200;

    public static Command Create(TextWriter output)
    {
        var db = OperatorCommands.DatabaseOption();
        var every = new Option<int>("--progress-every")
        {
            Description = "Rows between progress lines while comparing rows.",
            DefaultValueFactory = _ => 10_000,
            HelpName = "ROWS",
        };
        every.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--progress-every must be at least 1.");
            }
        });
        var command = new Command(
            "verify",
            "Check the database without changing it: the eight pragmas on a connection configured like the " +
            "service's, the schema version, PRAGMA integrity_check, PRAGMA foreign_key_check, and that every " +
            "legacy artifact and synthesis has a normalized twin that agrees with it (and the reverse). " +
            "Prints each problem naming its row and a summary; exits 1 when any problem is found.")
        {
            db,
            every,
        };
        command.SetAction((result, token) => RunAsync(result.GetValue(db), result.GetValue(every), output, token));
        return command;
    }

    private static async Task<int> RunAsync(string? databasePath, int every, TextWriter output, CancellationToken cancellationToken)
    {
        await using var context = OperatorContext.Create(databasePath, LogLevel.Warning, output);
        context.RequireFile();
        await output.WriteLineAsync($"Verifying {context.DatabasePath}");
        var progress = new LineProgress(output);
        var report = await Task.Run(
            () => DatabaseVerifier.Verify(context.DatabasePath, context.DatabaseOptions, progress, every, cancellationToken), cancellationToken);

        await output.WriteLineAsync($"Schema version {report.SchemaVersion}, latest {report.LatestVersion}.");
        foreach (var pragma in report.Pragmas)
        {
            await output.WriteLineAsync($"  {pragma.Name,-13} {pragma.Actual,-12} expected {pragma.Expected,-18} {(pragma.Ok ? "ok" : "DIFFERS")}");
        }

        await output.WriteLineAsync($"Compared {report.ArtifactsChecked:N0} artifacts and {report.SynthesesChecked:N0} syntheses with their twins.");
        var problems = report.Findings.Count(finding => finding.Severity == FindingSeverity.Problem);
        var warnings = report.Findings.Count - problems;
        foreach (var finding in report.Findings.Take(MaxListed))
        {
            var label = finding.Severity == FindingSeverity.Problem ? "PROBLEM" : "warning";
            await output.WriteLineAsync($"{label} [{finding.Check}] {finding.Message}");
        }

        if (report.Findings.Count > MaxListed)
        {
            await output.WriteLineAsync($"... and {report.Findings.Count - MaxListed} more.");
        }

        await output.WriteLineAsync(report.Ok
            ? $"verify: OK ({warnings} warning(s))."
            : $"verify: FAILED: {problems} problem(s), {warnings} warning(s).");
        return report.Ok ? OperatorCommands.Ok : OperatorCommands.Failed;
    }

    /// <summary>Writes each report as it comes, on the verifying thread.</summary>
    private sealed class LineProgress(TextWriter output) : IProgress<VerificationProgress>
    {
        public void Report(VerificationProgress value)
        {
            var line = value.Phase switch
            {
                "integrity_check" or "foreign_key_check" => $"  running PRAGMA {value.Phase}...",
                _ => $"  {value.Phase}: {value.Done:N0}/{value.Total:N0}",
            };
            output.WriteLine(line);
            output.Flush();
        }
    }
}
