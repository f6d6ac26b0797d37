using System.CommandLine;
using ConsensusApi.Domain.Maintenance;

namespace ConsensusApi.Operations;

/// <summary><c>stats</c>: page statistics, row counts per table, schema version, WAL size.</summary>
internal static class StatsCommand
{
    public static Command Create(TextWriter output)
    {
        var db = OperatorCommands.DatabaseOption();
        var command = new Command(
            "stats",
            "Print the file's page statistics (page size and count, free pages), its size and its WAL's, the " +
            "journal and auto-vacuum modes, the schema version and the row count of every table. Changes nothing.")
        {
            db,
        };
        command.SetAction((result, _) => RunAsync(result.GetValue(db), output));
        return command;
    }

    private static async Task<int> RunAsync(string? databasePath, TextWriter output)
    {
        await using var context = OperatorContext.Create(databasePath, LogLevel.Warning, output);
        context.RequireFile();
        var stats = DatabaseFile.ReadStatistics(context.DatabasePath);
        var pages = stats.Pages;
        await output.WriteLineAsync($"Database:        {stats.Path}");
        await output.WriteLineAsync($"File size:       {OperatorCommands.Bytes(stats.FileBytes)}");
        await output.WriteLineAsync($"WAL size:        {OperatorCommands.Bytes(pages.WalBytes)}");
        await output.WriteLineAsync($"Schema version:  {stats.SchemaVersion} (latest {stats.LatestVersion})");
        await output.WriteLineAsync($"Page size:       {pages.PageSize:N0} bytes");
        await output.WriteLineAsync($"Pages:           {pages.PageCount:N0}, {OperatorCommands.Bytes(pages.SizeBytes)}");
        await output.WriteLineAsync($"Free pages:      {pages.FreelistCount:N0}, {OperatorCommands.Bytes(pages.FreelistBytes)}");
        await output.WriteLineAsync($"Journal mode:    {pages.JournalMode}");
        await output.WriteLineAsync($"auto_vacuum:     {pages.AutoVacuum}{(pages.NeedsFullVacuum ? " (run 'vacuum --full' once to switch to incremental)" : "")}");
        await output.WriteLineAsync("Rows per table:");
        foreach (var table in stats.Tables)
        {
            await output.WriteLineAsync($"  {table.Table,-24} {table.Rows,12:N0}");
        }

        return OperatorCommands.Ok;
    }
}
