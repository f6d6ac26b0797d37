using System.CommandLine;
using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Storage;

namespace ConsensusApi.Operations;

/// <summary><c>migrate</c>: backup first, then open the file as the service does (migrations and legacy backfill).</summary>
internal static class MigrateCommand
{
    public static Command Create(TextWriter output)
    {
        var db = OperatorCommands.DatabaseOption();
        var command = new Command(
            "migrate",
            "Bring the database to the latest schema: writes a backup beside the file first " +
            "(<file>.v<old version>-<UTC time>.bak), applies the pending migrations in order, each in its own " +
            "transaction, and copies legacy rows that have no normalized twin yet. The legacy tables stay. " +
            "Does nothing when the file is up to date.")
        {
            db,
        };
        command.SetAction((result, token) => RunAsync(result.GetValue(db), output, token));
        return command;
    }

    private static async Task<int> RunAsync(string? databasePath, TextWriter output, CancellationToken cancellationToken)
    {
        // Information level: the Domain logs each migration as it is applied (on standard error).
        await using var context = OperatorContext.Create(databasePath, LogLevel.Information, output);
        context.RequireFile();
        var path = context.DatabasePath;
        var plan = DatabaseFile.PlanMigration(path);
        await output.WriteLineAsync($"Database: {path}");
        await output.WriteLineAsync($"Schema version {plan.SchemaVersion}, latest {plan.LatestVersion}.");
        if (plan.UpToDate)
        {
            await output.WriteLineAsync("Nothing to migrate: the schema is the latest and every legacy row has its normalized twin.");
            return OperatorCommands.Ok;
        }

        foreach (var migration in plan.Pending)
        {
            await output.WriteLineAsync($"Pending: {migration.Version} ({migration.Name})");
        }

        if (plan.LegacyRowsWithoutTwin > 0)
        {
            await output.WriteLineAsync($"Legacy rows to copy into the normalized schema: {plan.LegacyRowsWithoutTwin}");
        }

        // Opening the database writes the backup beside the file before the first migration runs.
        await output.WriteLineAsync("Writing the backup, then migrating...");
        var started = DateTime.UtcNow.AddSeconds(-1);
        var database = context.Get<ConsensusDatabase>();
        await database.OpenAsync(cancellationToken);
        var full = Path.GetFullPath(path);
        var backup = new DirectoryInfo(Path.GetDirectoryName(full)!)
            .GetFiles($"{Path.GetFileName(full)}.v{plan.SchemaVersion}-*.bak")
            .Where(file => file.LastWriteTimeUtc >= started)
            .OrderByDescending(file => file.LastWriteTimeUtc)
            .FirstOrDefault();
        if (backup is not null)
        {
            await output.WriteLineAsync($"Backup: {backup.FullName}, {OperatorCommands.Bytes(backup.Length)}. To undo the migration, stop the service and copy it over the database file.");
        }
        var status = await context.Get<StorageInspector>().GetMigrationStatusAsync(cancellationToken);
        foreach (var applied in status.Applied.Where(migration => migration.Version > plan.SchemaVersion))
        {
            await output.WriteLineAsync($"Applied: {applied.Version} ({applied.Name}) at {applied.AppliedAt:O}");
        }

        await database.DisposeAsync();
        var after = DatabaseFile.PlanMigration(path);
        await output.WriteLineAsync($"Schema version {after.SchemaVersion}; legacy rows without a normalized twin: {after.LegacyRowsWithoutTwin}.");
        foreach (var table in DatabaseFile.ReadStatistics(path).Tables)
        {
            await output.WriteLineAsync($"  {table.Table,-24} {table.Rows,12:N0} rows");
        }

        await output.WriteLineAsync("migrate: done.");
        return OperatorCommands.Ok;
    }
}
