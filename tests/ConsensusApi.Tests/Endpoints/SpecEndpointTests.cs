using System.Net;
using System.Text.Json;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class SpecEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>SPEC-A: two stages, 3 outputs in 2 runs plus a synthesis; SPEC-B: one output, written last.</summary>
    private static async Task SeedAsync(HttpClient client)
    {
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: "SPEC-A", agentName: "gemini", runTimestamp: 1_000))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: "SPEC-A", agentName: "claude", runTimestamp: 1_000))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(specId: "SPEC-A", runTimestamp: 1_000))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: "SPEC-A", stage: "spec-tasks", runTimestamp: 2_000))).AssertJsonAsync(HttpStatusCode.Created);
        await Task.Delay(5, Ct);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: "SPEC-B"))).AssertJsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task SpecsAreListedMostRecentlyActiveFirstWithStagesAndCounts()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await SeedAsync(client);

        var page = Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK));

        Assert.Null(page.NextCursor);
        Assert.Equal(["SPEC-B", "SPEC-A"], page.Items.Select(spec => spec.GetProperty("specId").GetString()));
        var a = page.Items[1];
        Assert.Equal(["spec-plan", "spec-tasks"], a.GetProperty("stages").EnumerateArray().Select(stage => stage.GetString()));
        Assert.Equal(2, a.GetProperty("runCount").GetInt64());
        Assert.Equal(3, a.GetProperty("artifactCount").GetInt64());
        var b = page.Items[0];
        Assert.Equal(["spec-plan"], b.GetProperty("stages").EnumerateArray().Select(stage => stage.GetString()));
        Assert.Equal(1, b.GetProperty("runCount").GetInt64());
        Assert.Equal(1, b.GetProperty("artifactCount").GetInt64());
        var lastA = AssertIsoUtc(a.GetProperty("lastActivityAt"));
        var lastB = AssertIsoUtc(b.GetProperty("lastActivityAt"));
        Assert.True(lastB > lastA, $"{lastB} should be after {lastA}");
        Assert.InRange(lastB, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task SpecsArePagedWithLimitAndCursor()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        foreach (var specId in new[] { "SPEC-1", "SPEC-2", "SPEC-3" })
        {
            await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: specId))).AssertJsonAsync(HttpStatusCode.Created);
            await Task.Delay(5, Ct);
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = Page(await (await client.GetAsync("/api/v1/specs?limit=1" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), Ct)).AssertJsonAsync(HttpStatusCode.OK));
            seen.AddRange(page.Items.Select(spec => spec.GetProperty("specId").GetString()!));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(["SPEC-3", "SPEC-2", "SPEC-1"], seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task ListingSpecsChecksLimitAndCursor()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        AssertSameJson("""{"items":[],"nextCursor":null}""", await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK));
        await (await client.GetAsync("/api/v1/specs?limit=0", Ct)).AssertValidationProblemAsync("limit");
        await (await client.GetAsync("/api/v1/specs?limit=501", Ct)).AssertValidationProblemAsync("limit");
        await (await client.GetAsync("/api/v1/specs?limit=abc", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.GetAsync("/api/v1/specs?cursor=%21%21", Ct)).AssertValidationProblemAsync("cursor");
        await (await client.GetAsync("/api/v1/specs?cursor=MTIz", Ct)).AssertValidationProblemAsync("cursor");
    }

    [Fact]
    public async Task DeletingASpecReturnsTheCountsAndLeavesNothingToRead()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await SeedAsync(client);

        var response = await client.DeleteAsync("/api/v1/specs/SPEC-A", Ct);

        AssertSameJson("""{"deletedRuns":2,"deletedArtifacts":3,"deletedLegacyArtifacts":3,"deletedLegacySyntheses":1}""",
            await response.AssertJsonAsync(HttpStatusCode.OK));
        foreach (var stage in new[] { "spec-plan", "spec-tasks" })
        {
            Assert.Empty(Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-A", stage), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
            Assert.Empty(Page(await (await client.GetAsync(Requests.RunsOf("SPEC-A", stage), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
            await (await client.GetAsync(Requests.RunsOf("SPEC-A", stage) + "/latest", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
            await (await client.GetAsync($"/api/v1/specs/SPEC-A/stages/{stage}/synthesis/latest", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        }

        Assert.Equal(["SPEC-B"], Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Select(spec => spec.GetProperty("specId").GetString()));
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-B"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Equal((0, 0), CountLegacyRows(factory.DatabasePath, "SPEC-A"));
        Assert.Equal((1, 0), CountLegacyRows(factory.DatabasePath, "SPEC-B"));

        await (await client.DeleteAsync("/api/v1/specs/SPEC-A", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingAStageReturnsTheCountsAndLeavesTheOtherStages()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await SeedAsync(client);

        var response = await client.DeleteAsync("/api/v1/specs/SPEC-A/stages/spec-plan", Ct);

        AssertSameJson("""{"deletedRuns":1,"deletedArtifacts":2,"deletedLegacyArtifacts":2,"deletedLegacySyntheses":1}""",
            await response.AssertJsonAsync(HttpStatusCode.OK));
        Assert.Empty(Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-A", "spec-plan"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Empty(Page(await (await client.GetAsync(Requests.RunsOf("SPEC-A", "spec-plan"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        await (await client.GetAsync("/api/v1/specs/SPEC-A/stages/spec-plan/synthesis/latest", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-A", "spec-tasks"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        var specA = Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Single(spec => spec.GetProperty("specId").GetString() == "SPEC-A");
        Assert.Equal(["spec-tasks"], specA.GetProperty("stages").EnumerateArray().Select(stage => stage.GetString()));
        Assert.Equal(1, specA.GetProperty("runCount").GetInt64());
        Assert.Equal(1, specA.GetProperty("artifactCount").GetInt64());
        Assert.Equal((1, 0), CountLegacyRows(factory.DatabasePath, "SPEC-A"));

        await (await client.DeleteAsync("/api/v1/specs/SPEC-A/stages/spec-plan", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingWhatNeverExistedIs404()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: "SPEC-A"))).AssertJsonAsync(HttpStatusCode.Created);

        await (await client.DeleteAsync("/api/v1/specs/SPEC-NONE", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.DeleteAsync("/api/v1/specs/SPEC-A/stages/spec-tasks", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-A"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task DeletingWithAnInvalidSpecIdOrStageIs400()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.DeleteAsync("/api/v1/specs/.hidden", Ct)).AssertValidationProblemAsync("specId");
        await (await client.DeleteAsync("/api/v1/specs/SPEC-A/stages/Plan", Ct)).AssertValidationProblemAsync("stage");
    }

    [Fact]
    public async Task DeletingASpecRemovesRowsStoredBeforeTheMigration()
    {
        await using var factory = new ConsensusApiFactory();
        LegacyDatabase.Create(factory.DatabasePath, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, created_at)
                VALUES ('SPEC-OLD', 'spec-plan', 'gemini', '{"a":1}', '2025-01-02 03:04:05'),
                       ('SPEC-OLD', 'spec-plan', 'claude', 'not json at all', '2025-01-02 03:04:05');
                INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, status, created_at)
                VALUES ('SPEC-OLD', 'spec-plan', '# Old', 'ok', '2025-01-02 03:04:06');
                """;
            command.ExecuteNonQuery();
        });
        SqliteConnection.ClearAllPools();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var before = Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-OLD"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;
        Assert.Equal(2, before.Length);
        Assert.Contains(before, artifact => artifact.GetProperty("content").ValueKind == JsonValueKind.String);

        var deleted = await (await client.DeleteAsync("/api/v1/specs/SPEC-OLD", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(2, deleted.GetProperty("deletedArtifacts").GetInt64());
        Assert.Equal(2, deleted.GetProperty("deletedLegacyArtifacts").GetInt64());
        Assert.Equal(1, deleted.GetProperty("deletedLegacySyntheses").GetInt64());
        Assert.True(deleted.GetProperty("deletedRuns").GetInt64() >= 1);
        Assert.Equal((0, 0), CountLegacyRows(factory.DatabasePath, "SPEC-OLD"));
    }

    private static (long Artifacts, long Syntheses) CountLegacyRows(string path, string specId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM consensus_artifacts WHERE spec_id = $spec), (SELECT count(*) FROM consensus_synthesis WHERE spec_id = $spec)";
        command.Parameters.AddWithValue("$spec", specId);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
