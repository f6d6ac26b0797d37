using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class RunEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PutInsertsWith201AndLocationThenUpdatesWith200KeepingTheId()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var inserted = await client.PutJsonAsync("/api/v1/runs", Requests.Run(consensusOk: false));
        var insertedRun = await inserted.AssertJsonAsync(HttpStatusCode.Created);
        var id = insertedRun.GetProperty("id").GetInt64();
        Assert.Equal($"/api/v1/runs/{id}", inserted.Headers.Location?.OriginalString);

        var updated = await client.PutJsonAsync("/api/v1/runs", Requests.Run(consensusOk: true));
        var updatedRun = await updated.AssertJsonAsync(HttpStatusCode.OK);

        Assert.Null(updated.Headers.Location);
        Assert.Equal(id, updatedRun.GetProperty("id").GetInt64());
        Assert.True(updatedRun.GetProperty("consensusOk").GetBoolean());
        var read = await (await client.GetAsync($"/api/v1/runs/{id}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        AssertSameJson(updatedRun, read);
        Assert.Single(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task AnInsertedRunHasTheContractRepresentationWithDefaults()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var run = await (await client.PutJsonAsync("/api/v1/runs", Requests.Run())).AssertJsonAsync(HttpStatusCode.Created);

        Assert.True(run.GetProperty("id").GetInt64() > 0);
        Assert.Equal(Requests.SpecId, run.GetProperty("specId").GetString());
        Assert.Equal(Requests.Stage, run.GetProperty("stage").GetString());
        Assert.Equal(Requests.RunTimestamp, run.GetProperty("runTimestamp").GetInt64());
        Assert.True(run.GetProperty("consensusOk").GetBoolean());
        Assert.False(run.GetProperty("degraded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("synthesis").ValueKind);
        Assert.Empty(run.GetProperty("outputs").EnumerateArray());
    }

    [Fact]
    public async Task OnUpdateAnOmittedDegradedOrSynthesisKeepsItsStoredValue()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var first = Requests.Run(consensusOk: false);
        first["degraded"] = true;
        first["synthesis"] = JsonNode.Parse("""{"verdict":"two of three","votes":[1,1,0]}""");
        var id = (await (await client.PutJsonAsync("/api/v1/runs", first)).AssertJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetInt64();

        var kept = await (await client.PutJsonAsync("/api/v1/runs", Requests.Run(consensusOk: true))).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(id, kept.GetProperty("id").GetInt64());
        Assert.True(kept.GetProperty("consensusOk").GetBoolean());
        Assert.True(kept.GetProperty("degraded").GetBoolean());
        AssertSameJson("""{"verdict":"two of three","votes":[1,1,0]}""", kept.GetProperty("synthesis"));

        var changed = Requests.Run(consensusOk: true);
        changed["degraded"] = false;
        changed["synthesis"] = JsonNode.Parse("""{"verdict":"unanimous"}""");
        var replaced = await (await client.PutJsonAsync("/api/v1/runs", changed)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.False(replaced.GetProperty("degraded").GetBoolean());
        AssertSameJson("""{"verdict":"unanimous"}""", replaced.GetProperty("synthesis"));
        var read = await (await client.GetAsync($"/api/v1/runs/{id}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        AssertSameJson(replaced, read);
    }

    [Fact]
    public async Task TheSynthesisObjectIsReturnedExactlyAsStored()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        const string synthesis = """
            {"output_markdown":"# Plan\n\n- é ✓","nested":{"list":[1,2.5,-3e2,{"deep":[null,true,false]}],"empty":{},"none":[]},"count":12345678901234,"text":"\"quoted\""}
            """;
        var request = Requests.Run();
        request["synthesis"] = JsonNode.Parse(synthesis);

        var stored = await (await client.PutJsonAsync("/api/v1/runs", request)).AssertJsonAsync(HttpStatusCode.Created);
        var read = await (await client.GetAsync($"/api/v1/runs/{stored.GetProperty("id").GetInt64()}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        var listed = Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Single();
        var latest = await (await client.GetAsync(Requests.RunsOf() + "/latest", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        AssertSameJson(synthesis, stored.GetProperty("synthesis"));
        AssertSameJson(synthesis, read.GetProperty("synthesis"));
        AssertSameJson(synthesis, listed.GetProperty("synthesis"));
        AssertSameJson(synthesis, latest.GetProperty("synthesis"));
    }

    [Fact]
    public async Task GettingARunReturnsItWithItsOutputs()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var outputs = new List<JsonElement>();
        foreach (var agent in new[] { "gemini", "claude", "gpt" })
        {
            outputs.Add(await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: agent, runTimestamp: Requests.RunTimestamp)))
                .AssertJsonAsync(HttpStatusCode.Created));
        }

        var runId = outputs[0].GetProperty("runId").GetInt64();
        var run = await (await client.GetAsync($"/api/v1/runs/{runId}", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(runId, run.GetProperty("id").GetInt64());
        Assert.Equal(Requests.RunTimestamp, run.GetProperty("runTimestamp").GetInt64());
        Assert.False(run.GetProperty("consensusOk").GetBoolean());
        Assert.False(run.GetProperty("degraded").GetBoolean());
        var returned = run.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(3, returned.Length);
        for (var i = 0; i < 3; i++)
        {
            AssertSameJson(outputs[i], returned[i]);
        }
    }

    [Fact]
    public async Task AnUnknownRunIs404AndANonNumericIdIs400()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync("/api/v1/runs/777", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/api/v1/runs/abc", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task RunsAreListedNewestFirstByRunTimestampWithoutOutputs()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        foreach (var timestamp in new long[] { 2_000, 3_000, 1_000 })
        {
            await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(runTimestamp: timestamp))).AssertJsonAsync(HttpStatusCode.Created);
        }

        await (await client.PutJsonAsync("/api/v1/runs", Requests.Run(stage: "spec-tasks", runTimestamp: 9_000))).AssertJsonAsync(HttpStatusCode.Created);

        var page = Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK));

        Assert.Equal([3_000L, 2_000L, 1_000L], page.Items.Select(run => run.GetProperty("runTimestamp").GetInt64()));
        Assert.All(page.Items, run => Assert.True(!run.TryGetProperty("outputs", out var outputs) || outputs.ValueKind == JsonValueKind.Null));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task PagingRunsWithLimitAndCursorVisitsEveryRunOnce()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        for (var timestamp = 1_000L; timestamp <= 5_000; timestamp += 1_000)
        {
            await (await client.PutJsonAsync("/api/v1/runs", Requests.Run(runTimestamp: timestamp))).AssertJsonAsync(HttpStatusCode.Created);
        }

        var first = Page(await (await client.GetAsync(Requests.RunsOf() + "?limit=2", Ct)).AssertJsonAsync(HttpStatusCode.OK));
        var second = Page(await (await client.GetAsync(Requests.RunsOf() + "?limit=2&cursor=" + Uri.EscapeDataString(first.NextCursor!), Ct)).AssertJsonAsync(HttpStatusCode.OK));
        var third = Page(await (await client.GetAsync(Requests.RunsOf() + "?limit=2&cursor=" + Uri.EscapeDataString(second.NextCursor!), Ct)).AssertJsonAsync(HttpStatusCode.OK));

        Assert.Equal([5_000L, 4_000L, 3_000L, 2_000L, 1_000L],
            first.Items.Concat(second.Items).Concat(third.Items).Select(run => run.GetProperty("runTimestamp").GetInt64()));
        Assert.NotNull(first.NextCursor);
        Assert.NotNull(second.NextCursor);
        Assert.Null(third.NextCursor);
    }

    [Fact]
    public async Task ListingRunsChecksLimitAndCursor()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        AssertSameJson("""{"items":[],"nextCursor":null}""", await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK));
        await (await client.GetAsync(Requests.RunsOf() + "?limit=0", Ct)).AssertValidationProblemAsync("limit");
        await (await client.GetAsync(Requests.RunsOf() + "?limit=501", Ct)).AssertValidationProblemAsync("limit");
        await (await client.GetAsync(Requests.RunsOf() + "?limit=abc", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.GetAsync(Requests.RunsOf() + "?cursor=not-a-cursor", Ct)).AssertValidationProblemAsync("cursor");
        await (await client.GetAsync(Requests.RunsOf("SPEC-1", "BAD"), Ct)).AssertValidationProblemAsync("stage");
    }

    [Fact]
    public async Task TheLatestRunIsTheNewestWithItsOutputs()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "old", runTimestamp: 1_000))).AssertJsonAsync(HttpStatusCode.Created);
        var newest = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "gemini", runTimestamp: 5_000))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "claude", runTimestamp: 5_000))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "middle", runTimestamp: 3_000))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(stage: "spec-tasks", runTimestamp: 9_000))).AssertJsonAsync(HttpStatusCode.Created);

        var latest = await (await client.GetAsync(Requests.RunsOf() + "/latest", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(newest.GetProperty("runId").GetInt64(), latest.GetProperty("id").GetInt64());
        Assert.Equal(5_000, latest.GetProperty("runTimestamp").GetInt64());
        Assert.Equal(["gemini", "claude"], latest.GetProperty("outputs").EnumerateArray().Select(output => output.GetProperty("agentName").GetString()));
    }

    [Fact]
    public async Task TheLatestRunOfAStageWithoutRunsIs404()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PutJsonAsync("/api/v1/runs", Requests.Run(stage: "spec-tasks"))).AssertJsonAsync(HttpStatusCode.Created);

        await (await client.GetAsync(Requests.RunsOf() + "/latest", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync(Requests.RunsOf("SPEC-1", "BAD") + "/latest", Ct)).AssertValidationProblemAsync("stage");
    }

    [Fact]
    public async Task AnInvalidUpsertListsEveryBadField()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PutJsonAsync("/api/v1/runs", new JsonObject { ["specId"] = "SPEC-1" })).AssertValidationProblemAsync("stage", "runTimestamp", "consensusOk");
        var arraySynthesis = Requests.Run();
        arraySynthesis["synthesis"] = new JsonArray(1, 2);
        await (await client.PutJsonAsync("/api/v1/runs", arraySynthesis)).AssertValidationProblemAsync("synthesis");
        var zeroTimestamp = Requests.Run(runTimestamp: 0);
        await (await client.PutJsonAsync("/api/v1/runs", zeroTimestamp)).AssertValidationProblemAsync("runTimestamp");

        Assert.Empty(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }
}
