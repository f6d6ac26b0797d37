using System.Text.Json;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Validation;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Storage;

public class ArtifactRepositoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StoringAnArtifactCreatesItsRunWithConsensusNotOk()
    {
        await using var db = await TestDatabase.OpenAsync();
        var artifacts = db.Get<ArtifactRepository>();

        var stored = (await artifacts.StoreAsync(Artifact(runTimestamp: 1764118923456), key: null, Ct)).Value;
        var run = await db.Get<RunRepository>().GetAsync(stored.RunId, Ct);

        Assert.Equal(1764118923456, stored.RunTimestamp);
        Assert.Equal(1764118923456, run.RunTimestamp);
        Assert.Equal(SpecId, run.SpecId);
        Assert.Equal(Stage, run.Stage);
        Assert.False(run.ConsensusOk);
        Assert.False(run.Degraded);
        Assert.Null(run.Synthesis);
        Assert.Equal([stored.Id], run.Outputs!.Select(output => output.Id));
    }

    [Fact]
    public async Task ArtifactsWithTheSameRunTimestampJoinOneRun()
    {
        await using var db = await TestDatabase.OpenAsync();
        var artifacts = db.Get<ArtifactRepository>();

        var gemini = (await artifacts.StoreAsync(Artifact(agentName: "gemini", runTimestamp: 1000), null, Ct)).Value;
        var claude = (await artifacts.StoreAsync(Artifact(agentName: "claude", runTimestamp: 1000), null, Ct)).Value;
        var other = (await artifacts.StoreAsync(Artifact(agentName: "gpt", runTimestamp: 2000), null, Ct)).Value;
        var otherStage = (await artifacts.StoreAsync(Artifact(stage: "spec-tasks", runTimestamp: 1000), null, Ct)).Value;

        Assert.Equal(gemini.RunId, claude.RunId);
        Assert.NotEqual(gemini.RunId, other.RunId);
        Assert.NotEqual(gemini.RunId, otherStage.RunId);
        Assert.Equal(3, Count(db.Path, "consensus_runs"));
        var run = await db.Get<RunRepository>().GetAsync(gemini.RunId, Ct);
        Assert.Equal([gemini.Id, claude.Id], run.Outputs!.Select(output => output.Id));
    }

    [Fact]
    public async Task JoiningAnExistingRunKeepsItsConsensusFlags()
    {
        await using var db = await TestDatabase.OpenAsync();
        var upserted = await db.Get<RunRepository>().UpsertAsync(
            new RunUpsertRequest { SpecId = SpecId, Stage = Stage, RunTimestamp = 1000, ConsensusOk = true, Degraded = true }, null, Ct);

        var stored = (await db.Get<ArtifactRepository>().StoreAsync(Artifact(runTimestamp: 1000), null, Ct)).Value;
        var run = await db.Get<RunRepository>().GetAsync(stored.RunId, Ct);

        Assert.Equal(upserted.Value.Id, stored.RunId);
        Assert.True(run.ConsensusOk);
        Assert.True(run.Degraded);
    }

    [Fact]
    public async Task WithoutRunTimestampTheRunStartsAtTheClocksNow()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();

        var first = (await artifacts.StoreAsync(Artifact(), null, Ct)).Value;
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var second = (await artifacts.StoreAsync(Artifact(), null, Ct)).Value;

        Assert.Equal(Start.ToUnixTimeMilliseconds(), first.RunTimestamp);
        Assert.Equal(Start, first.CreatedAt);
        Assert.Equal(Start.ToUnixTimeMilliseconds() + 1, second.RunTimestamp);
        Assert.NotEqual(first.RunId, second.RunId);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), Scalar(db.Path, "SELECT run_timestamp FROM consensus_runs WHERE id = @id", new { id = first.RunId }));
        var read = await artifacts.GetAsync(first.Id, Ct);
        Assert.Equal(Start, read.CreatedAt);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), read.RunTimestamp);
    }

    [Fact]
    public async Task BatchIsStoredInRequestOrderInBothSchemas()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        string[] agents = ["gemini", "claude", "gpt", "qwen", "mistral"];
        var request = new ArtifactBatchRequest
        {
            Items = agents.Select((agent, i) => Artifact(agentName: agent, stage: i % 2 == 0 ? "spec-plan" : "spec-tasks", runTimestamp: 1000,
                content: $$"""{"index":{{i}}}""")).ToList(),
        };

        var outcome = await artifacts.StoreBatchAsync(request, null, Ct);

        Assert.True(outcome.Created);
        Assert.Equal(agents, outcome.Value.Items.Select(item => item.AgentName));
        Assert.Equal(outcome.Value.Items.Select(item => item.Id).Order(), outcome.Value.Items.Select(item => item.Id));
        Assert.All(outcome.Value.Items, item => Assert.Equal(Start, item.CreatedAt));
        for (var i = 0; i < agents.Length; i++)
        {
            var read = await artifacts.GetAsync(outcome.Value.Items[i].Id, Ct);
            Assert.Equal(agents[i], read.AgentName);
            Assert.Equal(i, read.Content.GetProperty("index").GetInt32());
        }

        Assert.Equal(5, Count(db.Path, "consensus_artifacts"));
        Assert.Equal(5, Count(db.Path, "agent_outputs"));
        Assert.Equal(2, Count(db.Path, "consensus_runs"));
        Assert.Equal(new DualWriteSnapshot(5, 5, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }

    [Fact]
    public async Task BatchWithInvalidItemsWritesNothingAndReportsEveryBadItem()
    {
        await using var db = await TestDatabase.OpenAsync();
        var request = new ArtifactBatchRequest
        {
            Items =
            [
                Artifact(),
                Artifact(stage: "Spec Plan"),
                Artifact(),
                Artifact() with { Content = null },
                Artifact(agentName: "") with { RunTimestamp = 0 },
            ],
        };

        var error = await Assert.ThrowsAsync<DomainValidationException>(async () => await db.Get<ArtifactRepository>().StoreBatchAsync(request, null, Ct));

        Assert.Equal(
            ["items[1].stage", "items[3].content", "items[4].agentName", "items[4].runTimestamp"],
            error.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["content is required and must not be null."], error.Errors["items[3].content"]);
        Assert.Equal(0, Count(db.Path, "consensus_artifacts"));
        Assert.Equal(0, Count(db.Path, "agent_outputs"));
        Assert.Equal(0, Count(db.Path, "consensus_runs"));
    }

    [Fact]
    public async Task BatchWhoseThirdItemFailsInTheDatabaseWritesNothing()
    {
        await using var db = await TestDatabase.OpenAsync();
        var artifacts = db.Get<ArtifactRepository>();
        using (var connection = OpenRaw(db.Path))
        using (var command = connection.CreateCommand())
        {
            // A real constraint failure raised by SQLite while the batch's transaction is open.
            command.CommandText = """
                CREATE TRIGGER reject_poison BEFORE INSERT ON agent_outputs WHEN NEW.agent_name = 'poison'
                BEGIN SELECT RAISE(ABORT, 'poison output rejected'); END;
                """;
            command.ExecuteNonQuery();
        }

        var request = new ArtifactBatchRequest
        {
            Items = [Artifact(agentName: "gemini", runTimestamp: 1000), Artifact(agentName: "claude", runTimestamp: 1000),
                Artifact(agentName: "poison", runTimestamp: 2000), Artifact(agentName: "gpt", runTimestamp: 3000)],
        };

        var error = await Assert.ThrowsAsync<SqliteException>(async () => await artifacts.StoreBatchAsync(request, null, Ct));

        Assert.Equal(19, error.SqliteErrorCode & 0xFF);
        Assert.Contains("poison output rejected", error.Message, StringComparison.Ordinal);
        foreach (var table in new[] { "consensus_artifacts", "agent_outputs", "consensus_runs", "specs", "spec_stages" })
        {
            Assert.Equal(0, Count(db.Path, table));
        }

        Assert.Equal(new DualWriteSnapshot(0, 0, 0), db.Get<DualWriteTelemetry>().Snapshot());
        Assert.Empty((await db.Get<SpecRepository>().ListAsync(new PageRequest(), Ct)).Items);

        // The rolled-back batch consumed no ids: the next artifact is the first one.
        var next = (await artifacts.StoreAsync(Artifact(), null, Ct)).Value;
        Assert.Equal(1, next.Id);
    }

    [Fact]
    public async Task GettingAnUnknownIdThrowsNotFound()
    {
        await using var db = await TestDatabase.OpenAsync();
        await db.Get<ArtifactRepository>().StoreAsync(Artifact(), null, Ct);

        var error = await Assert.ThrowsAsync<NotFoundException>(async () => await db.Get<ArtifactRepository>().GetAsync(999, Ct));

        Assert.Contains("999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListIsNewestFirstWithTiesBrokenByDescendingId()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        var olderTies = await StoreMany(artifacts, 3);
        clock.Advance(TimeSpan.FromSeconds(1));
        var newerTies = await StoreMany(artifacts, 2);
        clock.Advance(TimeSpan.FromSeconds(1));
        var newest = await StoreMany(artifacts, 1);

        var page = await artifacts.ListAsync(SpecId, Stage, null, new PageRequest(), Ct);

        long[] expected = [.. newest.AsEnumerable().Reverse(), .. newerTies.AsEnumerable().Reverse(), .. olderTies.AsEnumerable().Reverse()];
        Assert.Equal(expected, page.Items.Select(item => item.Id));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task ListOrdersByCreatedAtBeforeId()
    {
        // A legacy row the terminal UI wrote has the lowest id but the latest created_at.
        var folder = TestDatabase.NewFolder();
        var path = System.IO.Path.Combine(folder, "consensus.db");
        LegacyDatabase.Create(path, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, created_at)
                VALUES ('SPEC-KIT-945', 'spec-plan', 'legacy', '{"old":true}', '2030-01-01 00:00:00')
                """;
            command.ExecuteNonQuery();
        });
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start), path: path);
        var artifacts = db.Get<ArtifactRepository>();
        var stored = await StoreMany(artifacts, 3);

        var page = await artifacts.ListAsync(SpecId, Stage, null, new PageRequest(), Ct);

        Assert.Equal([1L, .. stored.AsEnumerable().Reverse()], page.Items.Select(item => item.Id));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), page.Items[0].CreatedAt);
    }

    [Fact]
    public async Task AgentFilterListsOnlyThatAgentsOutputs()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        var claude = new List<long>();
        for (var i = 0; i < 9; i++)
        {
            var agent = (i % 3) switch { 0 => "gemini", 1 => "claude", _ => "gpt" };
            var id = (await artifacts.StoreAsync(Artifact(agentName: agent, runTimestamp: 1000 + i), null, Ct)).Value.Id;
            if (agent == "claude")
            {
                claude.Add(id);
            }

            clock.Advance(TimeSpan.FromMilliseconds(i % 2));
        }

        var all = await artifacts.ListAsync(SpecId, Stage, "claude", new PageRequest(), Ct);
        var first = await artifacts.ListAsync(SpecId, Stage, "claude", new PageRequest(2), Ct);
        var second = await artifacts.ListAsync(SpecId, Stage, "claude", new PageRequest(2, first.NextCursor), Ct);
        var nobody = await artifacts.ListAsync(SpecId, Stage, "nobody", new PageRequest(), Ct);

        Assert.Equal(claude.AsEnumerable().Reverse(), all.Items.Select(item => item.Id));
        Assert.All(all.Items, item => Assert.Equal("claude", item.AgentName));
        Assert.Equal(all.Items.Select(item => item.Id), first.Items.Concat(second.Items).Select(item => item.Id));
        Assert.NotNull(first.NextCursor);
        Assert.Null(second.NextCursor);
        Assert.Empty(nobody.Items);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    public async Task PagingWalksEveryItemOnceInOrder(int limit)
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        var ids = new List<long>();
        for (var i = 0; i < 23; i++)
        {
            // Groups of four share a timestamp, so page boundaries fall inside ties.
            if (i % 4 == 0)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }

            ids.Add((await artifacts.StoreAsync(Artifact(agentName: $"agent-{i}", runTimestamp: 1000), null, Ct)).Value.Id);
        }

        await artifacts.StoreAsync(Artifact(stage: "spec-tasks"), null, Ct);
        var seen = new List<long>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await artifacts.ListAsync(SpecId, Stage, null, new PageRequest(limit, cursor), Ct);
            pages++;
            Assert.InRange(page.Items.Count, 1, limit);
            Assert.True(page.NextCursor is null || page.Items.Count == limit);
            seen.AddRange(page.Items.Select(item => item.Id));
            cursor = page.NextCursor;
            Assert.InRange(pages, 1, 23);
        }
        while (cursor is not null);

        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
        Assert.Equal((23 + limit - 1) / limit, pages);
    }

    [Fact]
    public async Task LastFullPageHasNoNextCursor()
    {
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start));
        var artifacts = db.Get<ArtifactRepository>();
        await StoreMany(artifacts, 10);

        var first = await artifacts.ListAsync(SpecId, Stage, null, new PageRequest(5), Ct);
        var second = await artifacts.ListAsync(SpecId, Stage, null, new PageRequest(5, first.NextCursor), Ct);

        Assert.Equal(5, first.Items.Count);
        Assert.NotNull(first.NextCursor);
        Assert.Equal(5, second.Items.Count);
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task UnknownStageListsNothing()
    {
        await using var db = await TestDatabase.OpenAsync();
        await db.Get<ArtifactRepository>().StoreAsync(Artifact(), null, Ct);

        var page = await db.Get<ArtifactRepository>().ListAsync(SpecId, "spec-audit", null, new PageRequest(), Ct);
        var otherSpec = await db.Get<ArtifactRepository>().ListAsync("SPEC-OTHER", Stage, null, new PageRequest(), Ct);

        Assert.Empty(page.Items);
        Assert.Null(page.NextCursor);
        Assert.Empty(otherSpec.Items);
    }

    [Theory]
    [InlineData("not a cursor")]
    [InlineData("")]
    [InlineData("MTc2NDExODkyMzQ1Ng")] // "1764118923456": no id
    [InlineData("eDox")] // "x:1"
    [InlineData("MTotNQ")] // "1:-5"
    public async Task MalformedCursorIsRejectedUnderTheCursorKey(string cursor)
    {
        await using var db = await TestDatabase.OpenAsync();

        var error = await Assert.ThrowsAsync<DomainValidationException>(async () =>
            await db.Get<ArtifactRepository>().ListAsync(SpecId, Stage, null, new PageRequest(10, cursor), Ct));

        Assert.Equal(["cursor"], error.Errors.Keys);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(501)]
    public async Task LimitOutsideOneTo500IsRejectedUnderTheLimitKey(int limit)
    {
        await using var db = await TestDatabase.OpenAsync();

        var error = await Assert.ThrowsAsync<DomainValidationException>(async () =>
            await db.Get<ArtifactRepository>().ListAsync(SpecId, Stage, null, new PageRequest(limit), Ct));

        Assert.Equal(["limit"], error.Errors.Keys);
        Assert.Equal(["limit must be between 1 and 500."], error.Errors["limit"]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(500)]
    public async Task LimitsAtTheBoundsAreAccepted(int limit)
    {
        await using var db = await TestDatabase.OpenAsync();
        await db.Get<ArtifactRepository>().StoreAsync(Artifact(), null, Ct);

        var page = await db.Get<ArtifactRepository>().ListAsync(SpecId, Stage, null, new PageRequest(limit), Ct);

        Assert.Single(page.Items);
    }

    [Fact]
    public async Task ContentComesBackAsTheSameJsonValue()
    {
        await using var db = await TestDatabase.OpenAsync();
        var artifacts = db.Get<ArtifactRepository>();
        string[] values = ["\"just text\"", "42", "[1,{\"a\":null},\"x\"]", """{"nested":{"deep":[true,false]},"unicode":"caf\u00e9 \u2713"}"""];

        foreach (var value in values)
        {
            var stored = (await artifacts.StoreAsync(Artifact(content: value), null, Ct)).Value;
            var read = await artifacts.GetAsync(stored.Id, Ct);
            Assert.True(JsonElement.DeepEquals(Json(value), read.Content), value);
            Assert.Equal(Json(value).ValueKind, read.Content.ValueKind);
        }
    }

    private static async Task<List<long>> StoreMany(ArtifactRepository artifacts, int count)
    {
        var ids = new List<long>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await artifacts.StoreAsync(Artifact(agentName: $"agent-{i}", runTimestamp: 1000), null, Ct)).Value.Id);
        }

        return ids;
    }
}
