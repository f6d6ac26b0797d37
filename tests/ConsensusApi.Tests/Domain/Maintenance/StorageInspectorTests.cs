using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using static ConsensusApi.Tests.Domain.Maintenance.MaintenanceTestData;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Maintenance;

public class StorageInspectorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StatisticsAreThePragmasAndTheWalFileSize()
    {
        await using var db = await TestDatabase.OpenAsync();
        await FillAsync(db, "SPEC-A", 200, 2000, Ct);
        await db.Get<SpecRepository>().DeleteStageAsync("SPEC-A", Stage, Ct);
        await FillAsync(db, "SPEC-B", 20, 100, Ct);

        var stats = await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);

        using var connection = OpenRaw(db.Path);
        Assert.Equal(connection.ExecuteScalar<long>("PRAGMA page_size"), stats.PageSize);
        Assert.Equal(connection.ExecuteScalar<long>("PRAGMA page_count"), stats.PageCount);
        Assert.Equal(connection.ExecuteScalar<long>("PRAGMA freelist_count"), stats.FreelistCount);
        Assert.Equal(new FileInfo(db.Path + "-wal").Length, stats.WalBytes);
        Assert.True(stats.WalBytes > 0);
        Assert.True(stats.FreelistCount > 0);
        Assert.Equal(stats.PageCount * stats.PageSize, stats.SizeBytes);
        Assert.Equal(stats.FreelistCount * stats.PageSize, stats.FreelistBytes);
        Assert.Equal("wal", stats.JournalMode);
        Assert.Equal("incremental", stats.AutoVacuum);
        Assert.False(stats.NeedsFullVacuum);
    }

    [Fact]
    public async Task AfterACheckpointTheFileIsExactlyItsPagesAndTheWalIsEmpty()
    {
        await using var db = await TestDatabase.OpenAsync();
        await FillAsync(db, "SPEC-A", 100, 1000, Ct);
        await db.Get<VacuumService>().RunIncrementalAsync(1, Ct);

        var stats = await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);

        Assert.Equal(0, stats.WalBytes);
        Assert.Equal(new FileInfo(db.Path).Length, stats.SizeBytes);
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("full", true)]
    [InlineData("incremental", false)]
    public void OnlyIncrementalAutoVacuumAvoidsAFullVacuum(string autoVacuum, bool needsFullVacuum)
    {
        var stats = new PageStatistics(4096, 10, 2, 0, "wal", autoVacuum);

        Assert.Equal(needsFullVacuum, stats.NeedsFullVacuum);
        Assert.Equal(40960, stats.SizeBytes);
        Assert.Equal(8192, stats.FreelistBytes);
    }

    [Fact]
    public async Task DatabaseCreatedWithoutAutoVacuumIsReportedAsNeedingAFullVacuum()
    {
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        LegacyDatabase.Create(path);
        await using var db = await TestDatabase.OpenAsync(path: path);

        var stats = await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);

        Assert.Equal("none", stats.AutoVacuum);
        Assert.True(stats.NeedsFullVacuum);
        Assert.Equal("wal", stats.JournalMode);
    }
}
