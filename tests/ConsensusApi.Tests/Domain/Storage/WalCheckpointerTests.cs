using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;

namespace ConsensusApi.Tests.Domain.Storage;

/// <summary>The background checkpointer beside the write lane (<c>Database:WalRestartFrames</c>).</summary>
public sealed class WalCheckpointerTests
{
    private static readonly long Now = DateTimeOffset.Parse("2026-02-03T04:05:06Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Settings that keep the lane's own TRUNCATE backstop out of the way.</summary>
    private static Dictionary<string, string?> Settings(int walRestartFrames) => new()
    {
        ["Database:WalRestartFrames"] = walRestartFrames.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Database:WalCheckpointThresholdBytes"] = (1L << 40).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Database:JournalSizeLimitBytes"] = (1L << 40).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Theory]
    [InlineData(4000, 0)]
    [InlineData(0, 1000)]
    public async Task LaneConnectionCheckpointsBySqlitesAutomaticCheckpointOnlyWithoutTheCheckpointer(int walRestartFrames, long autocheckpoint)
    {
        await using var db = await TestDatabase.OpenAsync(Settings(walRestartFrames));

        var actual = await db.Database.Writes.ExecuteAloneAsync((connection, _) => connection.ExecuteScalar<long>("PRAGMA wal_autocheckpoint"), Ct);

        Assert.Equal(autocheckpoint, actual);
        Assert.Equal(walRestartFrames > 0 ? 2 : 1, db.Database.Pool.Statistics.InUse);
    }

    [Fact]
    public async Task CommittedFramesAreCopiedIntoTheDatabaseFileWithoutTheLane()
    {
        // Never restart: only the checkpointer's passes can move pages into the main file.
        await using var db = await TestDatabase.OpenAsync(Settings(walRestartFrames: 1_000_000));
        var file = new FileInfo(db.Path);
        var before = file.Length;

        await Task.WhenAll(Enumerable.Range(0, 500).Select(i =>
            db.Database.Writes.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: $"agent-{i}", n: i), Now, []).Id, Ct)));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (file.Length <= before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
            file.Refresh();
        }

        Assert.True(file.Length > before, $"the database file stayed {file.Length} bytes");
        Assert.Equal(500L, SqliteFiles.Count(db.Path, "agent_outputs"));
    }

    [Fact]
    public async Task WritesMadeOneAfterAnotherShareAPass()
    {
        await using var db = await TestDatabase.OpenAsync(Settings(walRestartFrames: 1_000_000));
        var lane = db.Database.Writes;
        var before = lane.CheckpointPasses;

        // Each write is a transaction of its own; a pass per commit would fsync twice per write.
        // Gathered for 10 ms at a time, 300 writes take about a dozen passes; ungathered, 160-190.
        for (var i = 0; i < 300; i++)
        {
            await lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: $"agent-{i}", n: i), Now, []).Id, Ct);
        }

        var passes = lane.CheckpointPasses - before;
        Assert.InRange(passes, 1, 60);
        Assert.Equal(300L, SqliteFiles.Count(db.Path, "agent_outputs"));
    }

    [Fact]
    public async Task WalStartsAgainFromItsBeginningUnderContinuousWrites()
    {
        var settings = Settings(walRestartFrames: 50);
        settings["Database:MaxWriteBatch"] = "8";
        await using var db = await TestDatabase.OpenAsync(settings);
        var content = new string('x', 3000);

        // Back-to-back transactions of eight large units each: the lane never idles.
        var writes = Enumerable.Range(0, 3000).Select(i => db.Database.Writes.ExecuteAsync((c, _) =>
        {
            var request = SqliteFiles.Artifact(specId: $"SPEC-{i % 40}", agent: $"agent-{i}", n: i) with { ResponseText = content };
            return ArtifactRepository.Insert(c, request, Now + i, []).Id;
        }, Ct)).ToList();
        await Task.WhenAll(writes);

        // Some 80 MB of frames go through the WAL; restarted once the checkpointer caught up, it stays a fraction of that.
        var wal = new FileInfo(db.Path + "-wal");
        Assert.True(wal.Length < 10L << 20, $"WAL is {wal.Length} bytes");
        Assert.Equal(3000L, SqliteFiles.Count(db.Path, "agent_outputs"));
    }

    [Fact]
    public async Task TruncatingCheckpointsOfTheLaneNeverMeetAPassOfTheCheckpointer()
    {
        await using var db = await TestDatabase.OpenAsync(Settings(walRestartFrames: 10));
        var lane = db.Database.Writes;

        for (var round = 0; round < 20; round++)
        {
            var writes = Enumerable.Range(0, 30).Select(i =>
                lane.ExecuteAsync((c, _) => ArtifactRepository.Insert(c, SqliteFiles.Artifact(agent: $"agent-{round}-{i}", n: i), Now, []).Id, Ct));
            var checkpoint = lane.ExecuteAloneAsync((connection, _) =>
                connection.QuerySingle<(long Busy, long Log, long Checkpointed)>("PRAGMA wal_checkpoint(TRUNCATE)"), Ct);
            await Task.WhenAll(writes);

            Assert.Equal(0L, (await checkpoint).Busy);
        }

        Assert.Equal(600L, SqliteFiles.Count(db.Path, "agent_outputs"));
    }
}
