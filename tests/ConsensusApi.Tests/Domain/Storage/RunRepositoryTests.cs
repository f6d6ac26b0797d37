using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Storage;

public class RunRepositoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RunUpsertRequest Upsert(long runTimestamp, bool consensusOk = true, bool? degraded = null, string? synthesis = null, string stage = Stage) => new()
    {
        SpecId = SpecId,
        Stage = stage,
        RunTimestamp = runTimestamp,
        ConsensusOk = consensusOk,
        Degraded = degraded,
        Synthesis = synthesis is null ? null : Json(synthesis),
    };

    [Fact]
    public async Task UpsertInsertsThenUpdatesReturningTheRowsRealIdBothTimes()
    {
        await using var db = await TestDatabase.OpenAsync();
        var runs = db.Get<RunRepository>();

        var inserted = await runs.UpsertAsync(Upsert(1000, consensusOk: false), null, Ct);
        var other = await runs.UpsertAsync(Upsert(2000), null, Ct);
        await db.Get<ArtifactRepository>().StoreAsync(Artifact(runTimestamp: 3000), null, Ct);
        var updated = await runs.UpsertAsync(Upsert(1000, consensusOk: true), null, Ct);

        var realId = Scalar(db.Path, "SELECT id FROM consensus_runs WHERE spec_id = @SpecId AND stage = @Stage AND run_timestamp = 1000", new { SpecId, Stage });
        Assert.True(inserted.Created);
        Assert.False(updated.Created);
        Assert.Equal(realId, inserted.Value.Id);
        Assert.Equal(realId, updated.Value.Id);
        Assert.NotEqual(realId, other.Value.Id);
        Assert.False(inserted.Value.ConsensusOk);
        Assert.True(updated.Value.ConsensusOk);
        Assert.Equal(3, Count(db.Path, "consensus_runs"));
    }

    [Fact]
    public async Task InsertWithoutDegradedOrSynthesisStoresFalseAndNull()
    {
        await using var db = await TestDatabase.OpenAsync();

        var run = (await db.Get<RunRepository>().UpsertAsync(Upsert(1000), null, Ct)).Value;

        Assert.False(run.Degraded);
        Assert.Null(run.Synthesis);
        Assert.Equal(0, Scalar(db.Path, "SELECT degraded FROM consensus_runs WHERE id = @Id", new { run.Id }));
        Assert.Equal(1, Scalar(db.Path, "SELECT synthesis_json IS NULL FROM consensus_runs WHERE id = @Id", new { run.Id }));
    }

    [Fact]
    public async Task UpdateWithoutDegradedOrSynthesisKeepsTheStoredValues()
    {
        await using var db = await TestDatabase.OpenAsync();
        var runs = db.Get<RunRepository>();
        const string synthesis = """{"output_markdown":"# Plan","status":"ok"}""";
        await runs.UpsertAsync(Upsert(1000, consensusOk: true, degraded: true, synthesis: synthesis), null, Ct);

        var kept = (await runs.UpsertAsync(Upsert(1000, consensusOk: false), null, Ct)).Value;
        var read = await runs.GetAsync(kept.Id, Ct);

        Assert.False(kept.ConsensusOk);
        Assert.True(kept.Degraded);
        Assert.Equal(synthesis, kept.Synthesis!.Value.GetRawText());
        Assert.False(read.ConsensusOk);
        Assert.True(read.Degraded);
        Assert.Equal(synthesis, read.Synthesis!.Value.GetRawText());

        var replaced = (await runs.UpsertAsync(Upsert(1000, consensusOk: true, degraded: false, synthesis: """{"status":"retried"}"""), null, Ct)).Value;

        Assert.False(replaced.Degraded);
        Assert.Equal("""{"status":"retried"}""", replaced.Synthesis!.Value.GetRawText());
    }

    [Fact]
    public async Task SynthesisObjectRoundTripsExactly()
    {
        await using var db = await TestDatabase.OpenAsync();
        var runs = db.Get<RunRepository>();
        const string synthesis = """{"b":1.50,"a":[1e3,-0,12345678901234567890],"nested":{"empty":{},"list":[],"null":null},"text":"caf\u00e9 \"quoted\" \u2713","flag":false}""";

        var upserted = (await runs.UpsertAsync(Upsert(1000, synthesis: synthesis), null, Ct)).Value;
        var byId = await runs.GetAsync(upserted.Id, Ct);
        var latest = await runs.LatestAsync(SpecId, Stage, Ct);
        var listed = (await runs.ListAsync(SpecId, Stage, new PageRequest(), Ct)).Items.Single();

        Assert.Equal(synthesis, upserted.Synthesis!.Value.GetRawText());
        Assert.Equal(synthesis, byId.Synthesis!.Value.GetRawText());
        Assert.Equal(synthesis, latest.Synthesis!.Value.GetRawText());
        Assert.Equal(synthesis, listed.Synthesis!.Value.GetRawText());
    }

    [Fact]
    public async Task GetReturnsTheRunWithItsOutputsOldestFirst()
    {
        await using var db = await TestDatabase.OpenAsync();
        var artifacts = db.Get<ArtifactRepository>();
        var mine = new List<long>();
        foreach (var agent in new[] { "gemini", "claude", "gpt" })
        {
            mine.Add((await artifacts.StoreAsync(Artifact(agentName: agent, runTimestamp: 1000), null, Ct)).Value.Id);
            await artifacts.StoreAsync(Artifact(agentName: agent, runTimestamp: 2000), null, Ct);
        }

        var runId = (await artifacts.GetAsync(mine[0], Ct)).RunId;
        var run = await db.Get<RunRepository>().GetAsync(runId, Ct);

        Assert.Equal(1000, run.RunTimestamp);
        Assert.Equal(mine, run.Outputs!.Select(output => output.Id));
        Assert.Equal(["gemini", "claude", "gpt"], run.Outputs!.Select(output => output.AgentName));
        Assert.All(run.Outputs!, output => Assert.Equal(runId, output.RunId));
        Assert.All(run.Outputs!, output => Assert.Equal(1000, output.RunTimestamp));
    }

    [Fact]
    public async Task GettingAnUnknownRunThrowsNotFound()
    {
        await using var db = await TestDatabase.OpenAsync();
        await db.Get<RunRepository>().UpsertAsync(Upsert(1000), null, Ct);

        await Assert.ThrowsAsync<NotFoundException>(async () => await db.Get<RunRepository>().GetAsync(42, Ct));
    }

    [Fact]
    public async Task ListIsNewestRunTimestampFirstWhateverTheInsertOrder()
    {
        await using var db = await TestDatabase.OpenAsync();
        var runs = db.Get<RunRepository>();
        long[] timestamps = [5000, 1000, 9000, 3000, 7000];
        foreach (var timestamp in timestamps)
        {
            await runs.UpsertAsync(Upsert(timestamp), null, Ct);
        }

        await runs.UpsertAsync(Upsert(8000, stage: "spec-tasks"), null, Ct);

        var page = await runs.ListAsync(SpecId, Stage, new PageRequest(), Ct);

        Assert.Equal([9000L, 7000, 5000, 3000, 1000], page.Items.Select(run => run.RunTimestamp));
        Assert.All(page.Items, run => Assert.Null(run.Outputs));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task ListPagesWalkEveryRunOnce()
    {
        await using var db = await TestDatabase.OpenAsync();
        var runs = db.Get<RunRepository>();
        var expected = new List<long>();
        for (var i = 0; i < 12; i++)
        {
            var timestamp = 1000 + ((i * 7) % 12) * 10;
            await runs.UpsertAsync(Upsert(timestamp), null, Ct);
            expected.Add(timestamp);
        }

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await runs.ListAsync(SpecId, Stage, new PageRequest(5, cursor), Ct);
            seen.AddRange(page.Items.Select(run => run.RunTimestamp));
            cursor = page.NextCursor;
            pages++;
            Assert.InRange(pages, 1, 12);
        }
        while (cursor is not null);

        Assert.Equal(expected.OrderDescending(), seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task ListOfUnknownStageIsEmptyAndBadPagingIsRejected()
    {
        await using var db = await TestDatabase.OpenAsync();
        var runs = db.Get<RunRepository>();
        await runs.UpsertAsync(Upsert(1000), null, Ct);

        var empty = await runs.ListAsync(SpecId, "spec-audit", new PageRequest(), Ct);
        var badCursor = await Assert.ThrowsAsync<DomainValidationException>(async () => await runs.ListAsync(SpecId, Stage, new PageRequest(10, "%%%"), Ct));
        var badLimit = await Assert.ThrowsAsync<DomainValidationException>(async () => await runs.ListAsync(SpecId, Stage, new PageRequest(501), Ct));

        Assert.Empty(empty.Items);
        Assert.Null(empty.NextCursor);
        Assert.Equal(["cursor"], badCursor.Errors.Keys);
        Assert.Equal(["limit"], badLimit.Errors.Keys);
    }

    [Fact]
    public async Task LatestIsTheNewestRunTimestampWithItsOutputs()
    {
        await using var db = await TestDatabase.OpenAsync();
        var artifacts = db.Get<ArtifactRepository>();
        await artifacts.StoreAsync(Artifact(runTimestamp: 1000), null, Ct);
        var newest = new[]
        {
            (await artifacts.StoreAsync(Artifact(agentName: "gemini", runTimestamp: 3000), null, Ct)).Value.Id,
            (await artifacts.StoreAsync(Artifact(agentName: "claude", runTimestamp: 3000), null, Ct)).Value.Id,
        };
        // Written last, but older.
        await artifacts.StoreAsync(Artifact(runTimestamp: 2000), null, Ct);

        var latest = await db.Get<RunRepository>().LatestAsync(SpecId, Stage, Ct);

        Assert.Equal(3000, latest.RunTimestamp);
        Assert.Equal(newest, latest.Outputs!.Select(output => output.Id));
    }

    [Fact]
    public async Task LatestOfStageWithoutRunsThrowsNotFound()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        await db.Get<RunRepository>().UpsertAsync(Upsert(1000), null, Ct);

        await Assert.ThrowsAsync<NotFoundException>(async () => await db.Get<RunRepository>().LatestAsync(SpecId, "spec-audit", Ct));
        await Assert.ThrowsAsync<NotFoundException>(async () => await db.Get<RunRepository>().LatestAsync("SPEC-NONE", Stage, Ct));
    }
}
