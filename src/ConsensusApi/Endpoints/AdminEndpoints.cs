using ConsensusApi.Auth;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Storage.Migrations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConsensusApi.Endpoints;

/// <summary>Operators' view and levers: schema, storage, pragmas, vacuum, backup, telemetry.</summary>
internal static class AdminEndpoints
{
    public static void MapAdminEndpoints(this RouteGroupBuilder api)
    {
        var admin = api.MapGroup("/admin").WithTags("Admin").RequireAuthorization(Roles.Policies.Administer);
        admin.MapGet("/migrations", GetMigrations).WithSummary("Schema version, applied and pending migrations");
        admin.MapGet("/storage", GetStorage).WithSummary("File size, free pages, WAL size, vacuum state");
        admin.MapGet("/pragmas", GetPragmas).WithSummary("The eight connection pragmas, expected against actual");
        // Maintenance runs to its end however long the file takes: no request timeout.
        admin.MapPost("/vacuum", Vacuum)
            .DisableRequestTimeout()
            .WithSummary("Run one vacuum cycle now")
            .WithDescription("Incremental by default (pages, default Vacuum:Pages); mode=full runs a full VACUUM, needed once to switch a database created without incremental auto-vacuum.");
        admin.MapPost("/backup", Backup).DisableRequestTimeout().WithSummary("Write an online, consistent, self-contained backup into Backup:Folder");
        admin.MapGet("/telemetry", GetTelemetry).WithSummary("Dual-write, retry and pool counters");
    }

    internal static async Task<Ok<MigrationStatus>> GetMigrations(StorageInspector inspector, CancellationToken cancellationToken) =>
        TypedResults.Ok(await inspector.GetMigrationStatusAsync(cancellationToken));

    internal static async Task<Ok<StorageReport>> GetStorage(
        StorageInspector inspector, VacuumService vacuum, ConsensusDatabase database, CancellationToken cancellationToken)
    {
        var pages = await inspector.GetPageStatisticsAsync(cancellationToken);
        return TypedResults.Ok(new StorageReport(
            database.Path, pages.SizeBytes, pages.FreelistBytes, pages.WalBytes, pages.PageSize, pages.PageCount,
            pages.JournalMode, pages.AutoVacuum, pages.NeedsFullVacuum, vacuum.LastRun, vacuum.NextRunAt));
    }

    internal static async Task<Ok<PragmaReport>> GetPragmas(StorageInspector inspector, CancellationToken cancellationToken) =>
        TypedResults.Ok(new PragmaReport(await inspector.CheckPragmasAsync(cancellationToken)));

    internal static async Task<Ok<VacuumResult>> Vacuum(
        int? pages, string? mode, HttpContext context, IdempotencyKeys keys, StorageExecutor storage, VacuumService vacuum, CancellationToken cancellationToken)
    {
        var full = mode switch
        {
            null or "incremental" => false,
            "full" => true,
            _ => throw DomainValidationException.For("mode", "mode must be 'incremental' or 'full'."),
        };
        if (pages is < 1 or > 10_000_000)
        {
            throw DomainValidationException.For("pages", "pages must be between 1 and 10000000.");
        }

        var key = keys.From(context, nameof(Vacuum), new { pages, mode });
        var outcome = await storage.RunOnceAsync("admin_vacuum", key, token => full ? vacuum.RunFullAsync(token) : vacuum.RunIncrementalAsync(pages, token), cancellationToken);
        IdempotencyKeys.MarkReplay(context, outcome);
        return TypedResults.Ok(outcome.Value);
    }

    internal static async Task<Ok<BackupResult>> Backup(
        HttpContext context, IdempotencyKeys keys, StorageExecutor storage, BackupService backups, CancellationToken cancellationToken)
    {
        var outcome = await storage.RunOnceAsync("admin_backup", keys.From(context, nameof(Backup), new { }), backups.BackupAsync, cancellationToken);
        IdempotencyKeys.MarkReplay(context, outcome);
        return TypedResults.Ok(outcome.Value);
    }

    internal static Ok<TelemetryReport> GetTelemetry(DualWriteTelemetry dualWrite, RetryTelemetry retry, ConsensusDatabase database)
    {
        var writes = dualWrite.Snapshot();
        var retries = retry.Snapshot();
        var pool = database.Pool.Statistics;
        return TypedResults.Ok(new TelemetryReport(
            new DualWriteReport(writes.Writes, writes.Validated, writes.Mismatches, writes.MismatchRate),
            new RetryReport(retries.Operations, retries.RetriedOperations, retries.Attempts, retries.Recovered, retries.Exhausted, retries.RetryRate, retries.Alert),
            new PoolReport(pool.Size, pool.InUse, pool.Idle, pool.Open, pool.Waits, pool.Timeouts, pool.Replaced)));
    }
}
