using System.CommandLine;
using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Storage;

namespace ConsensusApi.Operations;

/// <summary><c>backup &lt;file&gt;</c>: an online, consistent, self-contained copy.</summary>
internal static class BackupCommand
{
    public static Command Create(TextWriter output)
    {
        var db = OperatorCommands.DatabaseOption();
        var file = new Argument<string>("file") { Description = "Where to write the backup; it must not exist yet." };
        var command = new Command(
            "backup",
            "Write a consistent, self-contained copy of the database (VACUUM INTO: no -wal file needed beside it) " +
            "to <file>, while the service may keep running. Restore by copying it over the database file while " +
            "the service is stopped. Needs the latest schema.")
        {
            db,
            file,
        };
        command.SetAction((result, token) => RunAsync(result.GetValue(db), result.GetRequiredValue(file), output, token));
        return command;
    }

    private static async Task<int> RunAsync(string? databasePath, string file, TextWriter output, CancellationToken cancellationToken)
    {
        await using var context = OperatorContext.Create(databasePath, LogLevel.Warning, output);
        context.RequireCurrentSchema();
        await context.Get<ConsensusDatabase>().OpenAsync(cancellationToken);
        await output.WriteLineAsync($"Writing a backup of {context.DatabasePath} to {Path.GetFullPath(file)}...");
        var result = await context.Get<BackupService>().BackupToAsync(file, cancellationToken);
        await output.WriteLineAsync($"Backup: {result.Path}, {OperatorCommands.Bytes(result.SizeBytes)}, at {result.CreatedAt:O}");
        await output.WriteLineAsync("backup: done.");
        return OperatorCommands.Ok;
    }
}
