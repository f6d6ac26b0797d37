using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static ConsensusApi.Tests.Domain.Maintenance.MaintenanceTestData;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Maintenance;

public class VacuumServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IncrementalCycleFreesTheRequestedPagesAndShrinksTheFile()
    {
        await using var db = await TestDatabase.OpenAsync();
        await FillAsync(db, "SPEC-BIG", 2000, 3000, Ct);
        await FillAsync(db, "SPEC-KEEP", 10, 100, Ct);
        await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-BIG", Ct);
        var vacuum = db.Get<VacuumService>();

        var result = await vacuum.RunIncrementalAsync(100, Ct);

        var stats = await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);
        Assert.Equal(VacuumMode.Incremental, result.Mode);
        Assert.Equal(100, result.Pages);
        Assert.True(result.FreelistBeforeBytes > 1000 * stats.PageSize, $"freelist before: {result.FreelistBeforeBytes} bytes");
        Assert.Equal(100 * stats.PageSize, result.FreelistBeforeBytes - result.FreelistAfterBytes);
        Assert.True(result.SizeBeforeBytes - result.SizeAfterBytes >= 100 * stats.PageSize);
        Assert.Equal(result.SizeBeforeBytes - result.SizeAfterBytes, result.ReclaimedBytes);
        Assert.Equal(new FileInfo(db.Path).Length, result.SizeAfterBytes);
        Assert.Equal(stats.SizeBytes, result.SizeAfterBytes);
        Assert.Equal(stats.FreelistBytes, result.FreelistAfterBytes);
        Assert.Equal("incremental", result.AutoVacuum);
        Assert.Same(result, vacuum.LastRun);
        Assert.Equal(10, (await db.Get<ArtifactRepository>().ListAsync("SPEC-KEEP", Stage, null, new PageRequest(), Ct)).Items.Count);
        Assert.Equal("ok", IntegrityCheck(db.Path));
    }

    [Fact]
    public async Task RepeatedCyclesReclaimEveryFreePage()
    {
        await using var db = await TestDatabase.OpenAsync();
        await FillAsync(db, "SPEC-BIG", 2000, 3000, Ct);
        await FillAsync(db, "SPEC-KEEP", 10, 100, Ct);
        var full = await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);
        await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-BIG", Ct);
        var vacuum = db.Get<VacuumService>();

        var first = await vacuum.RunIncrementalAsync(1000, Ct);
        var freePages = first.FreelistBeforeBytes / full.PageSize;
        var last = first;
        var cycles = 1;
        while (last.FreelistAfterBytes > 0)
        {
            Assert.True(cycles <= freePages / 1000 + 1, $"{cycles} cycles of 1000 pages did not reclaim {freePages} free pages");
            last = await vacuum.RunIncrementalAsync(1000, Ct);
            cycles++;
        }

        Assert.Equal((freePages + 999) / 1000, cycles);
        Assert.Equal(0, last.FreelistAfterBytes);
        Assert.True(last.SizeAfterBytes < full.SizeBytes / 10, $"{last.SizeAfterBytes} bytes left of {full.SizeBytes}");
        Assert.Equal(new FileInfo(db.Path).Length, last.SizeAfterBytes);
        Assert.Equal("ok", IntegrityCheck(db.Path));
    }

    [Fact]
    public async Task CycleWithoutAPageCountFreesVacuumPages()
    {
        await using var db = await TestDatabase.OpenAsync(new Dictionary<string, string?> { ["Vacuum:Pages"] = "7" });
        await FillAsync(db, "SPEC-BIG", 300, 3000, Ct);
        await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-BIG", Ct);
        var pageSize = (await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct)).PageSize;

        var result = await db.Get<VacuumService>().RunIncrementalAsync(null, Ct);

        Assert.Equal(7, result.Pages);
        Assert.Equal(7 * pageSize, result.FreelistBeforeBytes - result.FreelistAfterBytes);
    }

    [Fact]
    public async Task CycleOfFewerThanOnePageIsRefused()
    {
        await using var db = await TestDatabase.OpenAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await db.Get<VacuumService>().RunIncrementalAsync(0, Ct));
        Assert.Null(db.Get<VacuumService>().LastRun);
    }

    [Fact]
    public async Task FullVacuumSwitchesALegacyDatabaseToIncrementalAndShrinksIt()
    {
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        LegacyDatabase.Create(path, connection =>
        {
            FillLegacy(connection, "SPEC-OLD", 1500, 3000);
            FillLegacy(connection, "SPEC-KEEP", 6, 100);
        });
        var log = new CapturingLogger<VacuumService>();
        await using var db = await TestDatabase.OpenAsync(path: path, configure: services => services.AddSingleton<ILogger<VacuumService>>(log));
        var vacuum = db.Get<VacuumService>();
        var inspector = db.Get<StorageInspector>();
        await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-OLD", Ct);
        Assert.True((await inspector.GetPageStatisticsAsync(Ct)).NeedsFullVacuum);

        var incremental = await vacuum.RunIncrementalAsync(100, Ct);

        Assert.Equal("none", incremental.AutoVacuum);
        Assert.True(incremental.FreelistBeforeBytes > 0);
        Assert.Equal(incremental.FreelistBeforeBytes, incremental.FreelistAfterBytes);
        Assert.Contains(log.Entries, entry => entry.Level == LogLevel.Warning && entry.Message.Contains("full VACUUM", StringComparison.Ordinal));

        var full = await vacuum.RunFullAsync(Ct);

        Assert.Equal(VacuumMode.Full, full.Mode);
        Assert.Equal(0, full.Pages);
        Assert.Equal("incremental", full.AutoVacuum);
        Assert.Equal(0, full.FreelistAfterBytes);
        Assert.True(full.SizeAfterBytes < full.SizeBeforeBytes / 5, $"{full.SizeBeforeBytes} -> {full.SizeAfterBytes} bytes");
        Assert.Equal(new FileInfo(path).Length, full.SizeAfterBytes);
        Assert.False((await inspector.GetPageStatisticsAsync(Ct)).NeedsFullVacuum);
        Assert.Equal(2, Scalar(path, "PRAGMA auto_vacuum"));
        Assert.Equal(6, Count(path, "agent_outputs", "SPEC-KEEP"));
        Assert.Equal(6, Count(path, "consensus_artifacts", "SPEC-KEEP"));
        Assert.Equal("ok", IntegrityCheck(path));

        // From now on incremental cycles reclaim space.
        await FillAsync(db, "SPEC-NEW", 200, 3000, Ct);
        await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-NEW", Ct);
        var after = await vacuum.RunIncrementalAsync(10, Ct);
        Assert.Equal(10 * (await inspector.GetPageStatisticsAsync(Ct)).PageSize, after.FreelistBeforeBytes - after.FreelistAfterBytes);
    }

    [Fact]
    public async Task CycleForgetsIdempotencyKeysOlderThan24Hours()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        await artifacts.StoreAsync(Artifact(), new IdempotencyKey("expired", "fingerprint-1"), Ct);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await artifacts.StoreAsync(Artifact(), new IdempotencyKey("exactly-24h", "fingerprint-2"), Ct);
        clock.Advance(TimeSpan.FromHours(23));
        await artifacts.StoreAsync(Artifact(), new IdempotencyKey("recent", "fingerprint-3"), Ct);
        clock.Advance(TimeSpan.FromHours(1));

        await db.Get<VacuumService>().RunIncrementalAsync(null, Ct);

        using var connection = OpenRaw(db.Path);
        var keys = Dapper.SqlMapper.Query<string>(connection, "SELECT key FROM idempotency_keys ORDER BY key").ToList();
        Assert.Equal(["exactly-24h", "recent"], keys);
        Assert.Equal(3, Count(db.Path, "agent_outputs"));
    }
}
