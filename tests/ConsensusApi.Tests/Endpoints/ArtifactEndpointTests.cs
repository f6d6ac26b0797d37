using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class ArtifactEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PostingAnArtifactReturns201WithLocationAndTheStoredArtifact()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = Requests.Artifact(runTimestamp: Requests.RunTimestamp);
        request["responseText"] = "raw model response";
        request["modelVersion"] = "gemini-2.5-pro";
        request["pipelineRunId"] = "pipeline-1";

        var response = await client.PostJsonAsync("/api/v1/artifacts", request);

        var artifact = await response.AssertJsonAsync(HttpStatusCode.Created);
        var id = artifact.GetProperty("id").GetInt64();
        Assert.True(id > 0);
        Assert.Equal($"/api/v1/artifacts/{id}", response.Headers.Location?.OriginalString);
        Assert.True(artifact.GetProperty("runId").GetInt64() > 0);
        Assert.Equal(Requests.RunTimestamp, artifact.GetProperty("runTimestamp").GetInt64());
        Assert.Equal(Requests.SpecId, artifact.GetProperty("specId").GetString());
        Assert.Equal(Requests.Stage, artifact.GetProperty("stage").GetString());
        Assert.Equal("gemini", artifact.GetProperty("agentName").GetString());
        Assert.Equal("gemini-2.5-pro", artifact.GetProperty("modelVersion").GetString());
        Assert.Equal("raw model response", artifact.GetProperty("responseText").GetString());
        Assert.Equal("pipeline-1", artifact.GetProperty("pipelineRunId").GetString());
        AssertSameJson("""{"plan":["a","b"],"score":0.5}""", artifact.GetProperty("content"));
        var createdAt = AssertIsoUtc(artifact.GetProperty("createdAt"));
        Assert.InRange(createdAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));

        var read = await (await client.GetAsync(response.Headers.Location, Ct)).AssertJsonAsync(HttpStatusCode.OK);
        AssertSameJson(artifact, read);
    }

    public static TheoryData<string> ContentValues() =>
    [
        """{"any":"JSON value"}""",
        """[1,"two",{"three":3},[4],null,true]""",
        "\"a plain string with \\\"quotes\\\", unicode é ✓ and a newline\\n\"",
        "42",
        "-3.25e-7",
        "false",
        """{"nested":{"deeper":{"list":[{"a":[[]]},{}],"empty":{},"nothing":null,"big":12345678901234567890}}}""",
    ];

    [Theory]
    [MemberData(nameof(ContentValues))]
    public async Task ContentComesBackAsTheSameJsonValue(string content)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var created = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(content: content))).AssertJsonAsync(HttpStatusCode.Created);
        var read = await (await client.GetAsync($"/api/v1/artifacts/{created.GetProperty("id").GetInt64()}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        var listed = Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Single();

        var expected = Parse(content);
        AssertSameJson(expected, created.GetProperty("content"));
        AssertSameJson(expected, read.GetProperty("content"));
        AssertSameJson(expected, listed.GetProperty("content"));
        Assert.Equal(expected.ValueKind, read.GetProperty("content").ValueKind);
    }

    [Fact]
    public async Task ContentIsAnsweredInTheTextItWasSentIn()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        // Spacing, an escaped character, markup and a number's trailing zero: all a re-encoding would change.
        const string content = """{ "html": "<b>bold</b> & more", "e": "caf\u00e9", "score": 1.50 }""";
        var body = $$"""{"specId":"{{Requests.SpecId}}","stage":"{{Requests.Stage}}","agentName":"gemini","content":{{content}}}""";

        var created = await client.PostJsonAsync("/api/v1/artifacts", body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var read = await client.GetAsync(created.Headers.Location, Ct);
        var listed = await client.GetAsync(Requests.ArtifactsOf(), Ct);

        foreach (var response in new[] { created, read, listed })
        {
            Assert.Contains("\"content\":" + content, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ArtifactsSendingTheSameRunTimestampJoinOneRun()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var first = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "gemini"))).AssertJsonAsync(HttpStatusCode.Created);
        var runTimestamp = first.GetProperty("runTimestamp").GetInt64();
        var second = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "claude", runTimestamp: runTimestamp))).AssertJsonAsync(HttpStatusCode.Created);
        var third = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "gpt", runTimestamp: runTimestamp))).AssertJsonAsync(HttpStatusCode.Created);

        var runId = first.GetProperty("runId").GetInt64();
        Assert.Equal(runId, second.GetProperty("runId").GetInt64());
        Assert.Equal(runId, third.GetProperty("runId").GetInt64());
        Assert.Equal(runTimestamp, third.GetProperty("runTimestamp").GetInt64());
        var run = await (await client.GetAsync($"/api/v1/runs/{runId}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["gemini", "claude", "gpt"], run.GetProperty("outputs").EnumerateArray().Select(output => output.GetProperty("agentName").GetString()));
        Assert.False(run.GetProperty("consensusOk").GetBoolean());
        Assert.Single(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task AnArtifactWithoutRunTimestampStartsANewRunAtTheCurrentTime()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeMilliseconds();

        var first = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
        await Task.Delay(5, Ct);
        var second = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);

        var after = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds();
        Assert.NotEqual(first.GetProperty("runId").GetInt64(), second.GetProperty("runId").GetInt64());
        Assert.InRange(first.GetProperty("runTimestamp").GetInt64(), before, after);
        Assert.InRange(second.GetProperty("runTimestamp").GetInt64(), before, after);
        Assert.Equal(2, Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Length);
    }

    [Fact]
    public async Task MissingOrInvalidFieldsAreListedInErrors()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = new JsonObject
        {
            ["specId"] = "-starts-with-a-dash",
            ["stage"] = "Spec-Plan",
            ["agentName"] = "tab\there",
            ["modelVersion"] = new string('m', 129),
            ["runTimestamp"] = -1,
        };

        var response = await client.PostJsonAsync("/api/v1/artifacts", request);

        await response.AssertValidationProblemAsync("specId", "stage", "agentName", "content", "modelVersion", "runTimestamp");
        Assert.Empty(Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task PostingABatchReturns201WithItsItemsInRequestOrder()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var batch = Requests.Batch(
            Requests.Artifact(agentName: "gemini", content: "1", runTimestamp: Requests.RunTimestamp),
            Requests.Artifact(agentName: "claude", content: "\"two\"", runTimestamp: Requests.RunTimestamp),
            Requests.Artifact(agentName: "gpt", content: "[3]", runTimestamp: Requests.RunTimestamp),
            Requests.Artifact(stage: "spec-tasks", agentName: "code", content: """{"four":4}"""));

        var response = await client.PostJsonAsync("/api/v1/artifacts/batch", batch);

        var body = await response.AssertJsonAsync(HttpStatusCode.Created);
        var items = body.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(["gemini", "claude", "gpt", "code"], items.Select(item => item.GetProperty("agentName").GetString()));
        Assert.Equal(["1", "\"two\"", "[3]", """{"four":4}"""], items.Select(item => item.GetProperty("content").GetRawText()));
        var ids = items.Select(item => item.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(ids.Order(), ids);
        Assert.Single(items.Take(3).Select(item => item.GetProperty("runId").GetInt64()).Distinct());
        Assert.Equal("spec-tasks", items[3].GetProperty("stage").GetString());
        foreach (var item in items)
        {
            AssertIsoUtc(item.GetProperty("createdAt"));
            var read = await (await client.GetAsync($"/api/v1/artifacts/{item.GetProperty("id").GetInt64()}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
            AssertSameJson(item, read);
        }

        Assert.Equal(3, Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Length);
    }

    [Fact]
    public async Task ABatchWithBadItemsIsRejectedListingEveryBadItemAndWritesNothing()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var badStage = Requests.Artifact(agentName: "d");
        badStage["stage"] = "Not A Stage";
        var nullContent = Requests.Artifact(agentName: "b");
        nullContent["content"] = null;
        var batch = Requests.Batch(Requests.Artifact(agentName: "a"), nullContent, Requests.Artifact(agentName: "c"), badStage, Requests.Artifact(agentName: "e"));

        var response = await client.PostJsonAsync("/api/v1/artifacts/batch", batch);

        await response.AssertValidationProblemAsync("items[1].content", "items[3].stage");
        Assert.Empty(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Empty(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Empty(Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public async Task ABatchOfNoItemsOrMoreThanMaxBatchItemsIsRejected(int count)
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxBatchItems"] = "3" });
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var batch = Requests.Batch([.. Enumerable.Range(0, count).Select(i => Requests.Artifact(agentName: $"agent-{i}"))]);

        var response = await client.PostJsonAsync("/api/v1/artifacts/batch", batch);

        await response.AssertValidationProblemAsync("items");
        Assert.Empty(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task ABatchOfExactlyMaxBatchItemsIsAccepted()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxBatchItems"] = "3" });
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch(Requests.Artifact(), Requests.Artifact(), Requests.Artifact()));

        Assert.Equal(3, (await response.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task ByDefaultABatchTakesUpTo1000Items()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch([.. Enumerable.Range(0, 1001).Select(i => Requests.Artifact(agentName: $"agent-{i}"))])))
            .AssertValidationProblemAsync("items");
        var accepted = await (await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch([.. Enumerable.Range(0, 1000).Select(i => Requests.Artifact(agentName: $"agent-{i}"))])))
            .AssertJsonAsync(HttpStatusCode.Created);

        Assert.Equal(1000, accepted.GetProperty("items").GetArrayLength());
        Assert.Equal("agent-999", accepted.GetProperty("items")[999].GetProperty("agentName").GetString());
        var page = Page(await (await client.GetAsync(Requests.ArtifactsOf() + "?limit=500", Ct)).AssertJsonAsync(HttpStatusCode.OK));
        Assert.Equal(500, page.Items.Length);
        Assert.NotNull(page.NextCursor);
    }

    [Fact]
    public async Task ABatchWithoutItemsIsRejected()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostJsonAsync("/api/v1/artifacts/batch", "{}")).AssertValidationProblemAsync("items");
        await (await client.PostJsonAsync("/api/v1/artifacts/batch", """{"items":null}""")).AssertValidationProblemAsync("items");
        await (await client.PostJsonAsync("/api/v1/artifacts/batch", """{"items":[null]}""")).AssertValidationProblemAsync("items[0]");
    }

    [Fact]
    public async Task GettingAnUnknownArtifactIs404()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var problem = await (await client.GetAsync("/api/v1/artifacts/424242", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains("424242", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public async Task GettingAnArtifactByANonNumericIdIs400(string id)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync($"/api/v1/artifacts/{id}", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task TheListIsNewestFirstAndFiltersByAgent()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var ids = new List<long>();
        foreach (var agent in new[] { "gemini", "claude", "gemini", "gpt" })
        {
            var created = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: agent))).AssertJsonAsync(HttpStatusCode.Created);
            ids.Add(created.GetProperty("id").GetInt64());
        }

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(stage: "spec-tasks"))).AssertJsonAsync(HttpStatusCode.Created);

        var all = Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK));
        Assert.Equal(ids.AsEnumerable().Reverse(), all.Items.Select(item => item.GetProperty("id").GetInt64()));
        Assert.Null(all.NextCursor);
        var createdAts = all.Items.Select(item => AssertIsoUtc(item.GetProperty("createdAt"))).ToArray();
        Assert.Equal(createdAts.OrderDescending(), createdAts);

        var gemini = Page(await (await client.GetAsync(Requests.ArtifactsOf() + "?agentName=gemini", Ct)).AssertJsonAsync(HttpStatusCode.OK));
        Assert.Equal([ids[2], ids[0]], gemini.Items.Select(item => item.GetProperty("id").GetInt64()));
        Assert.All(gemini.Items, item => Assert.Equal("gemini", item.GetProperty("agentName").GetString()));

        var nobody = Page(await (await client.GetAsync(Requests.ArtifactsOf() + "?agentName=nobody", Ct)).AssertJsonAsync(HttpStatusCode.OK));
        Assert.Empty(nobody.Items);
        Assert.Null(nobody.NextCursor);
    }

    [Fact]
    public async Task PagingWithLimitAndCursorVisitsEveryArtifactOnceNewestFirst()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var batch = Requests.Batch([.. Enumerable.Range(0, 7).Select(i => Requests.Artifact(agentName: $"agent-{i}"))]);
        var created = await (await client.PostJsonAsync("/api/v1/artifacts/batch", batch)).AssertJsonAsync(HttpStatusCode.Created);
        var expected = created.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetInt64()).Reverse().ToArray();

        var seen = new List<long>();
        var pageSizes = new List<int>();
        string? cursor = null;
        do
        {
            var url = Requests.ArtifactsOf() + "?limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = Page(await (await client.GetAsync(url, Ct)).AssertJsonAsync(HttpStatusCode.OK));
            seen.AddRange(page.Items.Select(item => item.GetProperty("id").GetInt64()));
            pageSizes.Add(page.Items.Length);
            cursor = page.NextCursor;
        }
        while (cursor is not null && pageSizes.Count < 10);

        Assert.Equal([3, 3, 1], pageSizes);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task AnExactlyFullLastPageHasANullCursor()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch(Requests.Artifact(), Requests.Artifact()))).AssertJsonAsync(HttpStatusCode.Created);

        var page = Page(await (await client.GetAsync(Requests.ArtifactsOf() + "?limit=2", Ct)).AssertJsonAsync(HttpStatusCode.OK));

        Assert.Equal(2, page.Items.Length);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task AnEmptyListIs200WithNoItemsAndANullCursor()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.GetAsync(Requests.ArtifactsOf("SPEC-NOTHING", "spec-plan"), Ct);

        var body = await response.AssertJsonAsync(HttpStatusCode.OK);
        AssertSameJson("""{"items":[],"nextCursor":null}""", body);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("501")]
    [InlineData("-1")]
    public async Task AnOutOfRangeLimitIs400(string limit)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync(Requests.ArtifactsOf() + "?limit=" + limit, Ct)).AssertValidationProblemAsync("limit");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("500")]
    public async Task ALimitAtTheBoundsIsAccepted(string limit)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync(Requests.ArtifactsOf() + "?limit=" + limit, Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ANonNumericLimitIs400()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync(Requests.ArtifactsOf() + "?limit=abc", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("%25%25%25")]
    [InlineData("bm90LWEtY3Vyc29y")]
    [InlineData("MTIz")]
    [InlineData("YWJjOjE")]
    [InlineData("MTIzOmFiYw")]
    public async Task AMalformedCursorIs400(string cursor)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync(Requests.ArtifactsOf() + "?cursor=" + cursor, Ct)).AssertValidationProblemAsync("cursor");
    }

    [Theory]
    [InlineData("-bad", "spec-plan", "specId")]
    [InlineData("SPEC-1", "Spec-Plan", "stage")]
    [InlineData("SPEC-1", "9stage", "stage")]
    public async Task AnInvalidSpecIdOrStageInTheRouteIs400(string specId, string stage, string field)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync(Requests.ArtifactsOf(specId, stage), Ct)).AssertValidationProblemAsync(field);
    }

    [Fact]
    public async Task AnInvalidAgentNameFilterIs400()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync(Requests.ArtifactsOf() + "?agentName=" + new string('a', 129), Ct)).AssertValidationProblemAsync("agentName");
    }

    [Fact]
    public async Task TheSpecAndStageIdentifiersOfTheContractAreAccepted()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var specId = "S" + new string('x', 127);

        foreach (var stage in new[] { "speckit.specify", "spec-plan", "spec-tasks", "spec-implement", "spec-validate", "spec-audit", "spec-unlock", "spec-clarify", "spec-analyze", "spec-checklist", "a" + new string('b', 63) })
        {
            await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: specId, stage: stage))).AssertJsonAsync(HttpStatusCode.Created);
            Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf(specId, stage), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        }

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(specId: specId + "x"))).AssertValidationProblemAsync("specId");
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(stage: "a" + new string('b', 64)))).AssertValidationProblemAsync("stage");
    }
}
