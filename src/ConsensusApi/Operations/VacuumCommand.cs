using System.CommandLine;
using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Storage;

namespace ConsensusApi.Operations;

/// <summary><c>vacuum</c>: one incremental cycle, or a full VACUUM, with sizes before and after.</summary>
internal static class VacuumCommand
{
    public static Command Create(TextWriter output)
    {
        var db = OperatorCommands.DatabaseOption();
        var full = new Option<bool>("--full") { Description = "Run a full VACUUM: rebuilds the file and switches it to incremental auto-vacuum (needed once for a file created without it)." };
        var pages = new Option<int?>("--pages")
        {
            Description = "Pages to free in an incremental cycle (default Vacuum:Pages, 20).",
            HelpName = "N",
        };
        var command = new Command(
            "vacuum",
            "Reclaim free pages: one incremental cycle (PRAGMA incremental_vacuum(N), then a WAL checkpoint) or, " +
            "with --full, a full VACUUM. Prints the sizes before and after. Needs the latest schema.")
        {
            db,
            full,
            pages,
        };
        command.Validators.Add(result =>
        {
            var count = result.GetValue(pages);
            if (count is < 1 or > 10_000_000)
            {
                result.AddError("--pages must be between 1 and 10000000.");
            }

            if (count is not null && result.GetValue(full))
            {
                result.AddError("--pages applies to an incremental cycle, not to --full.");
            }
        });
        command.SetAction((result, token) => RunAsync(result.GetValue(db), result.GetValue(full), result.GetValue(pages), output, token));
        return command;
    }

    private static async Task<int> RunAsync(string? databasePath, bool full, int? pages, TextWriter output, CancellationToken cancellationToken)
    {
        await using var context = OperatorContext.Create(databasePath, LogLevel.Warning, output);
        context.RequireCurrentSchema();
        await context.Get<ConsensusDatabase>().OpenAsync(cancellationToken);
        var vacuum = context.Get<VacuumService>();
        await output.WriteLineAsync(full
            ? $"Running a full VACUUM of {context.DatabasePath} (rewrites the whole file; it may take a while)..."
            : $"Running an incremental vacuum cycle of {context.DatabasePath}...");
        var result = full ? await vacuum.RunFullAsync(cancellationToken) : await vacuum.RunIncrementalAsync(pages, cancellationToken);
        await output.WriteLineAsync($"Size before:     {OperatorCommands.Bytes(result.SizeBeforeBytes)}");
        await output.WriteLineAsync($"Size after:      {OperatorCommands.Bytes(result.SizeAfterBytes)}");
        await output.WriteLineAsync($"Reclaimed:       {OperatorCommands.Bytes(result.ReclaimedBytes)}");
        await output.WriteLineAsync($"Free pages:      {OperatorCommands.Bytes(result.FreelistBeforeBytes)} -> {OperatorCommands.Bytes(result.FreelistAfterBytes)}");
        await output.WriteLineAsync($"auto_vacuum:     {result.AutoVacuum}");
        await output.WriteLineAsync($"Took {result.DurationMs} ms.");
        if (!full && result.AutoVacuum != "incremental")
        {
            await output.WriteLineAsync("Note: the file has no incremental auto-vacuum, so an incremental cycle frees nothing; run 'vacuum --full' once.");
        }

        await output.WriteLineAsync("vacuum: done.");
        return OperatorCommands.Ok;
    }
}
