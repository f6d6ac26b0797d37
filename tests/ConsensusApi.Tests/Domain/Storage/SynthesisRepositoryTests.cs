using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Storage;

public class SynthesisRepositoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StoringSynthesisMarksItsRunAsConsensusByDefaultAndStoresSynthesisJson()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifact = (await db.Get<ArtifactRepository>().StoreAsync(Artifact(runTimestamp: 1000), null, Ct)).Value;
        clock.Advance(TimeSpan.FromSeconds(5));

        var stored = (await db.Get<SynthesisRepository>().StoreAsync(Synthesis(runTimestamp: 1000), null, Ct)).Value;
        var run = await db.Get<RunRepository>().GetAsync(artifact.RunId, Ct);

        Assert.Equal(artifact.RunId, stored.RunId);
        Assert.Equal(1000, stored.RunTimestamp);
        Assert.True(stored.ConsensusOk);
        Assert.False(stored.Degraded);
        Assert.Equal(Start.AddSeconds(5), stored.CreatedAt);
        Assert.True(run.ConsensusOk);
        Assert.False(run.Degraded);
        Assert.Equal(
            """{"output_markdown":"# Plan","output_path":"docs/SPEC-KIT-945/plan.md","status":"ok","artifacts_count":3,"agreements":"all agree","conflicts":"none"}""",
            run.Synthesis!.Value.GetRawText());
        Assert.Equal([artifact.Id], run.Outputs!.Select(output => output.Id));
        Assert.Equal(1, Scalar(db.Path, "SELECT count(*) FROM consensus_synthesis WHERE id = @Id AND output_markdown = '# Plan' AND run_id = 'pipeline-1'", new { stored.Id }));
        Assert.Equal(1, Scalar(db.Path, "SELECT count(*) FROM run_syntheses WHERE id = @Id AND run_id = @RunId", new { stored.Id, stored.RunId }));
        Assert.Equal(new DualWriteSnapshot(2, 2, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }

    [Fact]
    public async Task StoringSynthesisSetsTheGivenConsensusAndDegradedFlags()
    {
        await using var db = await TestDatabase.OpenAsync();
        var runs = db.Get<RunRepository>();
        await runs.UpsertAsync(new RunUpsertRequest { SpecId = SpecId, Stage = Stage, RunTimestamp = 1000, ConsensusOk = true }, null, Ct);

        var stored = (await db.Get<SynthesisRepository>().StoreAsync(Synthesis(runTimestamp: 1000) with { ConsensusOk = false, Degraded = true }, null, Ct)).Value;
        var run = await runs.GetAsync(stored.RunId, Ct);

        Assert.False(stored.ConsensusOk);
        Assert.True(stored.Degraded);
        Assert.False(run.ConsensusOk);
        Assert.True(run.Degraded);
        Assert.Equal(1, Scalar(db.Path, "SELECT degraded FROM consensus_synthesis WHERE id = @Id", new { stored.Id }));
        Assert.Equal(1, Count(db.Path, "consensus_runs"));
    }

    [Fact]
    public async Task WithoutRunTimestampTheSynthesisStartsARunAtTheClocksNow()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);

        var stored = (await db.Get<SynthesisRepository>().StoreAsync(Synthesis(), null, Ct)).Value;
        var run = await db.Get<RunRepository>().GetAsync(stored.RunId, Ct);

        Assert.Equal(Start.ToUnixTimeMilliseconds(), stored.RunTimestamp);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), run.RunTimestamp);
        Assert.True(run.ConsensusOk);
        Assert.Empty(run.Outputs!);
    }

    [Fact]
    public async Task LatestReturnsEveryStoredField()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var stored = (await db.Get<SynthesisRepository>().StoreAsync(Synthesis(runTimestamp: 1000) with { Degraded = true }, null, Ct)).Value;

        var latest = await db.Get<SynthesisRepository>().LatestAsync(SpecId, Stage, Ct);

        Assert.Equal(stored, latest);
        Assert.Equal("docs/SPEC-KIT-945/plan.md", latest.OutputPath);
        Assert.Equal(3, latest.ArtifactsCount);
        Assert.Equal("all agree", latest.Agreements);
        Assert.Equal("none", latest.Conflicts);
        Assert.Equal("pipeline-1", latest.PipelineRunId);
        Assert.True(latest.Degraded);
    }

    [Fact]
    public async Task LatestIsTheNewestByCreatedAtWithTiesBrokenByDescendingId()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var syntheses = db.Get<SynthesisRepository>();

        await syntheses.StoreAsync(Synthesis(runTimestamp: 5000, markdown: "first"), null, Ct);
        var tie = (await syntheses.StoreAsync(Synthesis(runTimestamp: 5000, markdown: "second, same time"), null, Ct)).Value;
        var afterTie = await syntheses.LatestAsync(SpecId, Stage, Ct);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        // Newer write for an older run: creation time decides, not the run's timestamp.
        var newer = (await syntheses.StoreAsync(Synthesis(runTimestamp: 1000, markdown: "newest write"), null, Ct)).Value;
        var afterNewer = await syntheses.LatestAsync(SpecId, Stage, Ct);

        Assert.Equal(tie.Id, afterTie.Id);
        Assert.Equal("second, same time", afterTie.OutputMarkdown);
        Assert.Equal(newer.Id, afterNewer.Id);
        Assert.Equal(1000, afterNewer.RunTimestamp);
    }

    [Fact]
    public async Task LatestIncludesLegacySynthesesAndOrdersByCreatedAtBeforeId()
    {
        var folder = TestDatabase.NewFolder();
        var path = System.IO.Path.Combine(folder, "consensus.db");
        LegacyDatabase.Create(path, connection => connection.Execute("""
            INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, status, created_at)
            VALUES ('SPEC-KIT-945', 'spec-plan', 'from the terminal UI', 'ok', '2030-01-01 00:00:00')
            """));
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start), path: path);
        var syntheses = db.Get<SynthesisRepository>();

        var legacyOnly = await syntheses.LatestAsync(SpecId, Stage, Ct);
        var stored = (await syntheses.StoreAsync(Synthesis(), null, Ct)).Value;
        var latest = await syntheses.LatestAsync(SpecId, Stage, Ct);

        Assert.Equal(1, legacyOnly.Id);
        Assert.True(stored.Id > legacyOnly.Id);
        Assert.Equal(1, latest.Id);
        Assert.Equal("from the terminal UI", latest.OutputMarkdown);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), latest.CreatedAt);
    }

    [Fact]
    public async Task LatestOfStageWithoutSynthesisThrowsNotFound()
    {
        await using var db = await TestDatabase.OpenAsync();
        await db.Get<ArtifactRepository>().StoreAsync(Artifact(runTimestamp: 1000), null, Ct);

        await Assert.ThrowsAsync<NotFoundException>(async () => await db.Get<SynthesisRepository>().LatestAsync(SpecId, Stage, Ct));
    }
}
