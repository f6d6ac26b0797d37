using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class SynthesisEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string LatestOf(string specId = Requests.SpecId, string stage = Requests.Stage) => $"/api/v1/specs/{specId}/stages/{stage}/synthesis/latest";

    [Fact]
    public async Task PostingASynthesisReturns201WithTheRequestFieldsAndIdRunIdCreatedAt()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = Requests.Synthesis();
        request["degraded"] = true;
        request["consensusOk"] = false;

        var response = await client.PostJsonAsync("/api/v1/synthesis", request);

        var synthesis = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(LatestOf(), response.Headers.Location?.OriginalString);
        Assert.True(synthesis.GetProperty("id").GetInt64() > 0);
        Assert.True(synthesis.GetProperty("runId").GetInt64() > 0);
        AssertIsoUtc(synthesis.GetProperty("createdAt"));
        foreach (var field in new[] { "specId", "stage", "outputMarkdown", "outputPath", "status", "agreements", "conflicts", "pipelineRunId" })
        {
            Assert.Equal(request[field]!.GetValue<string>(), synthesis.GetProperty(field).GetString());
        }

        Assert.Equal(3, synthesis.GetProperty("artifactsCount").GetInt32());
        Assert.True(synthesis.GetProperty("degraded").GetBoolean());
        Assert.False(synthesis.GetProperty("consensusOk").GetBoolean());
        Assert.Equal(Requests.RunTimestamp, synthesis.GetProperty("runTimestamp").GetInt64());
    }

    [Fact]
    public async Task ASynthesisMarksItsRunAgreedByDefaultAndStoresTheSnakeCaseSynthesis()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var synthesis = await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis())).AssertJsonAsync(HttpStatusCode.Created);

        Assert.True(synthesis.GetProperty("consensusOk").GetBoolean());
        Assert.False(synthesis.GetProperty("degraded").GetBoolean());
        var run = await (await client.GetAsync($"/api/v1/runs/{synthesis.GetProperty("runId").GetInt64()}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(Requests.RunTimestamp, run.GetProperty("runTimestamp").GetInt64());
        Assert.True(run.GetProperty("consensusOk").GetBoolean());
        Assert.False(run.GetProperty("degraded").GetBoolean());
        AssertSameJson(
            """
            {"output_markdown":"# Plan\n\n1. Do it.","output_path":"docs/SPEC-KIT-945/plan.md","status":"ok",
             "artifacts_count":3,"agreements":"All agree on the plan.","conflicts":"None."}
            """,
            run.GetProperty("synthesis"));
    }

    [Fact]
    public async Task ASynthesisSetsTheConsensusFlagsOfTheRunTheAgentsWroteTo()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var output = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(runTimestamp: Requests.RunTimestamp))).AssertJsonAsync(HttpStatusCode.Created);
        var request = Requests.Synthesis();
        request["degraded"] = true;
        request["consensusOk"] = false;

        var synthesis = await (await client.PostJsonAsync("/api/v1/synthesis", request)).AssertJsonAsync(HttpStatusCode.Created);

        Assert.Equal(output.GetProperty("runId").GetInt64(), synthesis.GetProperty("runId").GetInt64());
        var run = await (await client.GetAsync($"/api/v1/runs/{output.GetProperty("runId").GetInt64()}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.False(run.GetProperty("consensusOk").GetBoolean());
        Assert.True(run.GetProperty("degraded").GetBoolean());
        Assert.Equal("# Plan\n\n1. Do it.", run.GetProperty("synthesis").GetProperty("output_markdown").GetString());
        AssertSameJson(output, run.GetProperty("outputs").EnumerateArray().Single());
        Assert.Single(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task ASynthesisWithoutRunTimestampCreatesARunAtTheCurrentTime()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds();

        var synthesis = await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(runTimestamp: null))).AssertJsonAsync(HttpStatusCode.Created);

        Assert.InRange(synthesis.GetProperty("runTimestamp").GetInt64(), before, DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds());
        var latestRun = await (await client.GetAsync(Requests.RunsOf() + "/latest", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(synthesis.GetProperty("runId").GetInt64(), latestRun.GetProperty("id").GetInt64());
        Assert.True(latestRun.GetProperty("consensusOk").GetBoolean());
    }

    [Fact]
    public async Task TheLatestSynthesisIsTheNewestOne()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(runTimestamp: 5_000, outputMarkdown: "first"))).AssertJsonAsync(HttpStatusCode.Created);
        var second = await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(runTimestamp: 1_000, outputMarkdown: "second"))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(stage: "spec-tasks", outputMarkdown: "other stage"))).AssertJsonAsync(HttpStatusCode.Created);

        var latest = await (await client.GetAsync(LatestOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK);

        // Newest by createdAt then id, whatever the run timestamps say.
        AssertSameJson(second, latest);
    }

    [Fact]
    public async Task TheLatestSynthesisOfAStageWithoutOneIs404()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);

        await (await client.GetAsync(LatestOf(), Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync(LatestOf("SPEC-1", "BAD"), Ct)).AssertValidationProblemAsync("stage");
    }

    [Fact]
    public async Task AnInvalidSynthesisListsEveryBadFieldAndWritesNothing()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = new JsonObject
        {
            ["specId"] = "SPEC KIT",
            ["stage"] = "spec-plan",
            ["artifactsCount"] = -1,
            ["pipelineRunId"] = new string('p', 129),
            ["runTimestamp"] = 0,
        };

        await (await client.PostJsonAsync("/api/v1/synthesis", request))
            .AssertValidationProblemAsync("specId", "outputMarkdown", "status", "artifactsCount", "pipelineRunId", "runTimestamp");
        Assert.Empty(Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task SynthesesStoredBeforeTheMigrationAreServed()
    {
        await using var factory = new ConsensusApiFactory();
        LegacyDatabase.Create(factory.DatabasePath, connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at)
                VALUES ('SPEC-OLD', 'spec-plan', 'gemini', '{"legacy":true}', 'raw', 'run-1', '2025-01-02 03:04:05');
                INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, output_path, status, artifacts_count, agreements, conflicts, degraded, run_id, created_at)
                VALUES ('SPEC-OLD', 'spec-plan', '# Old plan', 'docs/old.md', 'ok', 1, 'yes', 'no', 1, 'run-1', '2025-01-02 03:04:06');
                """;
            command.ExecuteNonQuery();
        });
        SqliteConnection.ClearAllPools();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var latest = await (await client.GetAsync(LatestOf("SPEC-OLD"), Ct)).AssertJsonAsync(HttpStatusCode.OK);
        var artifacts = Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-OLD"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;

        Assert.Equal("# Old plan", latest.GetProperty("outputMarkdown").GetString());
        Assert.Equal("docs/old.md", latest.GetProperty("outputPath").GetString());
        Assert.Equal(1, latest.GetProperty("artifactsCount").GetInt32());
        Assert.True(latest.GetProperty("degraded").GetBoolean());
        Assert.Equal("2025-01-02T03:04:06.000Z", latest.GetProperty("createdAt").GetString());
        var artifact = Assert.Single(artifacts);
        AssertSameJson("""{"legacy":true}""", artifact.GetProperty("content"));
        Assert.Equal(JsonValueKind.Object, artifact.GetProperty("content").ValueKind);

        var newer = await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(specId: "SPEC-OLD", outputMarkdown: "# New plan"))).AssertJsonAsync(HttpStatusCode.Created);
        AssertSameJson(newer, await (await client.GetAsync(LatestOf("SPEC-OLD"), Ct)).AssertJsonAsync(HttpStatusCode.OK));
    }
}
