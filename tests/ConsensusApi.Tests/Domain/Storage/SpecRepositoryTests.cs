using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Storage;

public class SpecRepositoryTests
{
    private static readonly string[] AllTables =
        ["consensus_artifacts", "consensus_synthesis", "agent_outputs", "consensus_runs", "run_syntheses", "spec_stages", "specs"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ListSummarisesStagesCountsAndLastActivityNewestFirst()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        var specs = db.Get<SpecRepository>();
        await artifacts.StoreAsync(Artifact("SPEC-A", "spec-plan", "gemini", 1000), null, Ct);
        await artifacts.StoreAsync(Artifact("SPEC-A", "spec-plan", "claude", 1000), null, Ct);
        await artifacts.StoreAsync(Artifact("SPEC-A", "spec-plan", "gemini", 2000), null, Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        await artifacts.StoreAsync(Artifact("SPEC-B", "spec-tasks", "gemini", 1000), null, Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        await db.Get<RunRepository>().UpsertAsync(
            new RunUpsertRequest { SpecId = "SPEC-A", Stage = "speckit.specify", RunTimestamp = 1000, ConsensusOk = true }, null, Ct);

        var before = (await specs.ListAsync(new PageRequest(), Ct)).Items;
        clock.Advance(TimeSpan.FromSeconds(1));
        await db.Get<SynthesisRepository>().StoreAsync(Synthesis("SPEC-B", "spec-tasks", 1000), null, Ct);
        var after = await specs.ListAsync(new PageRequest(), Ct);

        Assert.Equal(["SPEC-A", "SPEC-B"], before.Select(spec => spec.SpecId));
        var a = before[0];
        Assert.Equal(["spec-plan", "speckit.specify"], a.Stages);
        Assert.Equal(3, a.RunCount);
        Assert.Equal(3, a.ArtifactCount);
        Assert.Equal(Start.AddSeconds(2), a.LastActivityAt);
        var b = before[1];
        Assert.Equal(["spec-tasks"], b.Stages);
        Assert.Equal(1, b.RunCount);
        Assert.Equal(1, b.ArtifactCount);
        Assert.Equal(Start.AddSeconds(1), b.LastActivityAt);

        // A synthesis is activity too; it adds no run when its run exists.
        Assert.Equal(["SPEC-B", "SPEC-A"], after.Items.Select(spec => spec.SpecId));
        Assert.Equal(Start.AddSeconds(3), after.Items[0].LastActivityAt);
        Assert.Equal(1, after.Items[0].RunCount);
        Assert.Null(after.NextCursor);
    }

    [Fact]
    public async Task ListPagesWalkEverySpecOnceWithTiesBrokenByDescendingSpecId()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        for (var i = 0; i < 7; i++)
        {
            if (i is 3 or 5)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
            }

            await artifacts.StoreAsync(Artifact($"SPEC-{i}", runTimestamp: 1000), null, Ct);
        }

        var seen = new List<string>();
        var sizes = new List<int>();
        string? cursor = null;
        do
        {
            var page = await db.Get<SpecRepository>().ListAsync(new PageRequest(3, cursor), Ct);
            seen.AddRange(page.Items.Select(spec => spec.SpecId));
            sizes.Add(page.Items.Count);
            cursor = page.NextCursor;
            Assert.InRange(sizes.Count, 1, 7);
        }
        while (cursor is not null);

        Assert.Equal(["SPEC-6", "SPEC-5", "SPEC-4", "SPEC-3", "SPEC-2", "SPEC-1", "SPEC-0"], seen);
        Assert.Equal([3, 3, 1], sizes);
    }

    [Fact]
    public async Task ListOfAnEmptyDatabaseIsEmptyAndBadPagingIsRejected()
    {
        await using var db = await TestDatabase.OpenAsync();
        var specs = db.Get<SpecRepository>();

        var empty = await specs.ListAsync(new PageRequest(), Ct);
        var badCursor = await Assert.ThrowsAsync<DomainValidationException>(async () => await specs.ListAsync(new PageRequest(5, "MTo"), Ct));
        var badLimit = await Assert.ThrowsAsync<DomainValidationException>(async () => await specs.ListAsync(new PageRequest(0), Ct));

        Assert.Empty(empty.Items);
        Assert.Null(empty.NextCursor);
        Assert.Equal(["cursor"], badCursor.Errors.Keys);
        Assert.Equal(["limit"], badLimit.Errors.Keys);
    }

    [Fact]
    public async Task DeletingASpecRemovesItsRowsFromBothSchemasAndReportsTheCounts()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        await SeedTwoSpecs(db, clock);
        var bBefore = Counts(db.Path, "SPEC-B");

        var deleted = await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-A", Ct);

        Assert.Equal(new DeleteResult(DeletedRuns: 4, DeletedArtifacts: 5, DeletedLegacyArtifacts: 5, DeletedLegacySyntheses: 2), deleted);
        Assert.All(AllTables, table => Assert.Equal(0, Count(db.Path, table, "SPEC-A")));
        Assert.Equal(bBefore, Counts(db.Path, "SPEC-B"));
        var listed = (await db.Get<SpecRepository>().ListAsync(new PageRequest(), Ct)).Items;
        var b = Assert.Single(listed);
        Assert.Equal("SPEC-B", b.SpecId);
        Assert.Equal(1, b.RunCount);
        Assert.Equal(2, b.ArtifactCount);
        await Assert.ThrowsAsync<NotFoundException>(async () => await db.Get<RunRepository>().LatestAsync("SPEC-A", "spec-plan", Ct));
        Assert.Empty((await db.Get<ArtifactRepository>().ListAsync("SPEC-A", "spec-plan", null, new PageRequest(), Ct)).Items);
    }

    [Fact]
    public async Task DeletingAStageRemovesOnlyThatStageAndTheSummaryFollows()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        await SeedTwoSpecs(db, clock);
        var before = (await db.Get<SpecRepository>().ListAsync(new PageRequest(), Ct)).Items;
        var planBefore = StageCounts(db.Path, "SPEC-A", "spec-plan");

        var deleted = await db.Get<SpecRepository>().DeleteStageAsync("SPEC-A", "spec-tasks", Ct);

        Assert.Equal(new DeleteResult(DeletedRuns: 2, DeletedArtifacts: 1, DeletedLegacyArtifacts: 1, DeletedLegacySyntheses: 1), deleted);
        Assert.Equal([0L, 0, 0, 0, 0, 0], StageCounts(db.Path, "SPEC-A", "spec-tasks"));
        Assert.Equal(planBefore, StageCounts(db.Path, "SPEC-A", "spec-plan"));

        Assert.Equal(["SPEC-A", "SPEC-B"], before.Select(spec => spec.SpecId));
        Assert.Equal(["spec-plan", "spec-tasks"], before[0].Stages);
        Assert.Equal(Start.AddSeconds(10), before[0].LastActivityAt);
        var after = (await db.Get<SpecRepository>().ListAsync(new PageRequest(), Ct)).Items;
        Assert.Equal(["SPEC-B", "SPEC-A"], after.Select(spec => spec.SpecId));
        var a = after[1];
        Assert.Equal(["spec-plan"], a.Stages);
        Assert.Equal(2, a.RunCount);
        Assert.Equal(4, a.ArtifactCount);
        Assert.Equal(Start, a.LastActivityAt);
    }

    [Fact]
    public async Task DeletingWhatDoesNotExistThrowsNotFound()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        await SeedTwoSpecs(db, clock);
        var specs = db.Get<SpecRepository>();

        await Assert.ThrowsAsync<NotFoundException>(async () => await specs.DeleteSpecAsync("SPEC-NONE", Ct));
        await Assert.ThrowsAsync<NotFoundException>(async () => await specs.DeleteStageAsync("SPEC-A", "spec-audit", Ct));
        await specs.DeleteStageAsync("SPEC-A", "spec-tasks", Ct);
        await Assert.ThrowsAsync<NotFoundException>(async () => await specs.DeleteStageAsync("SPEC-A", "spec-tasks", Ct));
        await specs.DeleteSpecAsync("SPEC-B", Ct);
        await Assert.ThrowsAsync<NotFoundException>(async () => await specs.DeleteSpecAsync("SPEC-B", Ct));
        Assert.Equal(["SPEC-A"], (await specs.ListAsync(new PageRequest(), Ct)).Items.Select(spec => spec.SpecId));
    }

    [Fact]
    public async Task DeletingASpecRemovesLegacyRowsIncludingOnesAnOldWriterAddedLater()
    {
        var folder = TestDatabase.NewFolder();
        var path = System.IO.Path.Combine(folder, "consensus.db");
        LegacyDatabase.Create(path, connection => connection.Execute("""
            INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, run_id, created_at) VALUES
                ('SPEC-L', 'spec-plan', 'gemini', '{"a":1}', 'p-1', '2025-01-01 10:00:00'),
                ('SPEC-L', 'spec-plan', 'claude', '{"a":2}', 'p-1', '2025-01-01 10:00:01'),
                ('SPEC-L', 'spec-plan', 'gpt', '{"a":3}', 'p-1', '2025-01-01 10:00:02');
            INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, status, run_id, created_at)
            VALUES ('SPEC-L', 'spec-plan', '# L', 'ok', 'p-1', '2025-01-01 10:00:03');
            """));
        await using var db = await TestDatabase.OpenAsync(path: path);
        using (var connection = OpenRaw(db.Path))
        {
            // The terminal UI keeps writing the legacy table beside the service.
            connection.Execute("INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('SPEC-L', 'spec-plan', 'late', '{}')");
            connection.Execute("INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('SPEC-ONLY-LEGACY', 'spec-plan', 'late', '{}')");
        }

        var deleted = await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-L", Ct);
        var legacyOnly = await db.Get<SpecRepository>().DeleteSpecAsync("SPEC-ONLY-LEGACY", Ct);

        Assert.Equal(new DeleteResult(DeletedRuns: 1, DeletedArtifacts: 3, DeletedLegacyArtifacts: 4, DeletedLegacySyntheses: 1), deleted);
        Assert.Equal(new DeleteResult(0, 0, 1, 0), legacyOnly);
        Assert.All(AllTables, table => Assert.Equal(0, Count(db.Path, table)));
    }

    /// <summary>
    /// SPEC-A/spec-plan at Start: runs 1000 (3 outputs, a synthesis) and 2000 (1 output).
    /// SPEC-B/spec-plan at Start+5s: run 1000 (2 outputs, a synthesis).
    /// SPEC-A/spec-tasks at Start+10s: run 1000 (1 output) and a synthesis that starts its own run.
    /// </summary>
    private static async Task SeedTwoSpecs(TestDatabase db, FakeTimeProvider clock)
    {
        var artifacts = db.Get<ArtifactRepository>();
        var syntheses = db.Get<SynthesisRepository>();
        foreach (var agent in new[] { "gemini", "claude", "gpt" })
        {
            await artifacts.StoreAsync(Artifact("SPEC-A", "spec-plan", agent, 1000), null, Ct);
        }

        await artifacts.StoreAsync(Artifact("SPEC-A", "spec-plan", "gemini", 2000), null, Ct);
        await syntheses.StoreAsync(Synthesis("SPEC-A", "spec-plan", 1000), null, Ct);
        clock.Advance(TimeSpan.FromSeconds(5));
        await artifacts.StoreBatchAsync(new ArtifactBatchRequest
        {
            Items = [Artifact("SPEC-B", "spec-plan", "gemini", 1000), Artifact("SPEC-B", "spec-plan", "claude", 1000)],
        }, null, Ct);
        await syntheses.StoreAsync(Synthesis("SPEC-B", "spec-plan", 1000), null, Ct);
        clock.Advance(TimeSpan.FromSeconds(5));
        await artifacts.StoreAsync(Artifact("SPEC-A", "spec-tasks", "gemini", 1000), null, Ct);
        await syntheses.StoreAsync(Synthesis("SPEC-A", "spec-tasks"), null, Ct);
    }

    private static long[] Counts(string path, string specId) => [.. AllTables.Select(table => Count(path, table, specId))];

    private static long[] StageCounts(string path, string specId, string stage) =>
    [
        .. new[] { "consensus_artifacts", "consensus_synthesis", "agent_outputs", "consensus_runs", "run_syntheses", "spec_stages" }
            .Select(table => Scalar(path, $"SELECT count(*) FROM {table} WHERE spec_id = @specId AND stage = @stage", new { specId, stage })),
    ];
}
