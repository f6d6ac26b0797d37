using System.IO.Pipelines;
using System.Net;
using System.Text.Json;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class IdempotencyTests
{
    private const string ReplayedHeader = "Idempotent-Replayed";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<long> DualWritesAsync(HttpClient client) =>
        (await (await client.GetAsync("/api/v1/admin/telemetry", Ct)).AssertJsonAsync(HttpStatusCode.OK)).GetProperty("dualWrite").GetProperty("writes").GetInt64();

    [Fact]
    public async Task RepeatingAKeyWithTheSameBodyReturnsTheOriginalResponseAndWritesOnce()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var body = Requests.Artifact().ToJsonString();

        var first = await client.PostJsonAsync("/api/v1/artifacts", body, idempotencyKey: "retry-1");
        var original = await first.AssertJsonAsync(HttpStatusCode.Created);
        var second = await client.PostJsonAsync("/api/v1/artifacts", body, idempotencyKey: "retry-1");
        var replayed = await second.AssertJsonAsync(HttpStatusCode.Created);

        AssertSameJson(original, replayed);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.False(first.Headers.Contains(ReplayedHeader));
        Assert.Equal(["true"], second.Headers.GetValues(ReplayedHeader));
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Single(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Equal(1, await DualWritesAsync(client));
    }

    [Fact]
    public async Task TheSameJsonValueWithOtherSpacingAndPropertyOrderIsTheSameBody()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var original = await (await client.PostJsonAsync("/api/v1/artifacts",
            """{"specId":"SPEC-1","stage":"spec-plan","agentName":"gemini","content":{"a":1}}""", idempotencyKey: "k")).AssertJsonAsync(HttpStatusCode.Created);
        var second = await client.PostJsonAsync("/api/v1/artifacts",
            """{ "content": {"a":1}, "agentName": "gemini",  "stage": "spec-plan", "specId": "SPEC-1" }""", idempotencyKey: "k");

        AssertSameJson(original, await second.AssertJsonAsync(HttpStatusCode.Created));
        Assert.True(second.Headers.Contains(ReplayedHeader));
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf("SPEC-1"), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task TheSameKeyWithADifferentBodyIs409AndWritesNothing()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "gemini"), idempotencyKey: "shared")).AssertJsonAsync(HttpStatusCode.Created);

        var conflict = await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "claude"), idempotencyKey: "shared");

        var problem = await conflict.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("shared", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(conflict.Headers.Contains(ReplayedHeader));
        var items = Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;
        Assert.Equal("gemini", Assert.Single(items).GetProperty("agentName").GetString());
    }

    [Fact]
    public async Task AKeyUsedOnAnotherOperationIsAConflict()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(), idempotencyKey: "one-key")).AssertJsonAsync(HttpStatusCode.Created);

        await (await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch(Requests.Artifact()), idempotencyKey: "one-key")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(), idempotencyKey: "one-key")).AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        await (await client.GetAsync($"/api/v1/specs/{Requests.SpecId}/stages/{Requests.Stage}/synthesis/latest", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ConcurrentRetriesWithOneKeyStoreOnce()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var body = Requests.Artifact().ToJsonString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.PostJsonAsync("/api/v1/artifacts", body, idempotencyKey: "burst")));

        var bodies = new List<JsonElement>();
        foreach (var response in responses)
        {
            bodies.Add(await response.AssertJsonAsync(HttpStatusCode.Created));
        }

        Assert.All(bodies, stored => AssertSameJson(bodies[0], stored));
        Assert.Equal(9, responses.Count(response => response.Headers.Contains(ReplayedHeader)));
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Equal(1, await DualWritesAsync(client));
    }

    [Fact]
    public async Task DifferentKeysWriteTwice()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var body = Requests.Artifact();

        var first = await (await client.PostJsonAsync("/api/v1/artifacts", body, idempotencyKey: "a")).AssertJsonAsync(HttpStatusCode.Created);
        var second = await (await client.PostJsonAsync("/api/v1/artifacts", body, idempotencyKey: "b")).AssertJsonAsync(HttpStatusCode.Created);

        Assert.NotEqual(first.GetProperty("id").GetInt64(), second.GetProperty("id").GetInt64());
        Assert.Equal(2, Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Length);
    }

    public static TheoryData<string> InvalidKeys() =>
    [
        new string('k', 129),
        "caf\u00e9",
        "snow\u2603man",
        "bell\u0007",
        "delete\u007f",
    ];

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task AKeyThatIsNot1To128PrintableAsciiCharactersIs400(string key)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(), idempotencyKey: key);

        await response.AssertValidationProblemAsync("Idempotency-Key");
        Assert.Empty(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task AnEmptyKeyIs400()
    {
        await using var factory = new ConsensusApiFactory();
        var body = System.Text.Encoding.UTF8.GetBytes(Requests.Artifact().ToJsonString());

        // HttpClient drops an empty header value on the way to the test server, so the request is built there.
        var context = await factory.Server.SendAsync(http =>
        {
            http.Request.Method = HttpMethods.Post;
            http.Request.Path = "/api/v1/artifacts";
            http.Request.ContentType = "application/json";
            http.Request.ContentLength = body.Length;
            http.Request.Body = new MemoryStream(body);
            var content = new RequestBody(PipeReader.Create(new MemoryStream(body)));
            http.Features.Set<IRequestBodyPipeFeature>(content);
            http.Features.Set<IHttpRequestBodyDetectionFeature>(content);
            http.Request.Headers["Idempotency-Key"] = "";
        }, Ct);

        Assert.Equal(StatusCodes.Status400BadRequest, context.Response.StatusCode);
        Assert.StartsWith("application/problem+json", context.Response.ContentType, StringComparison.Ordinal);
        using var problem = await JsonDocument.ParseAsync(context.Response.Body, cancellationToken: Ct);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
        using var client = factory.CreateClient(TestKeys.Anonymous);
        Assert.Empty(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task TwoIdempotencyKeyHeadersAre400()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/artifacts") { Content = Json(Requests.Artifact()) };
        request.Headers.Add("Idempotency-Key", ["first", "second"]);

        await (await client.SendAsync(request, Ct)).AssertValidationProblemAsync("Idempotency-Key");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(128)]
    public async Task AKeyOf1To128PrintableCharactersIsAccepted(int length)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var key = string.Concat(Enumerable.Range(0, length).Select(i => (char)(0x21 + (i % 94))));

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(), idempotencyKey: key)).AssertJsonAsync(HttpStatusCode.Created);
        var replay = await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(), idempotencyKey: key);

        await replay.AssertJsonAsync(HttpStatusCode.Created);
        Assert.True(replay.Headers.Contains(ReplayedHeader));
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task ARepeatedBatchIsReplayedAndWrittenOnce()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var batch = Requests.Batch(Requests.Artifact(agentName: "gemini"), Requests.Artifact(agentName: "claude"), Requests.Artifact(agentName: "gpt")).ToJsonString();

        var original = await (await client.PostJsonAsync("/api/v1/artifacts/batch", batch, idempotencyKey: "batch-1")).AssertJsonAsync(HttpStatusCode.Created);
        var second = await client.PostJsonAsync("/api/v1/artifacts/batch", batch, idempotencyKey: "batch-1");

        AssertSameJson(original, await second.AssertJsonAsync(HttpStatusCode.Created));
        Assert.Equal(["true"], second.Headers.GetValues(ReplayedHeader));
        Assert.Equal(3, Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Length);
        Assert.Equal(3, await DualWritesAsync(client));

        var changed = Requests.Batch(Requests.Artifact(agentName: "gemini")).ToJsonString();
        await (await client.PostJsonAsync("/api/v1/artifacts/batch", changed, idempotencyKey: "batch-1")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(3, Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Length);
    }

    [Fact]
    public async Task ARepeatedSynthesisIsReplayedAndWrittenOnce()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var body = Requests.Synthesis().ToJsonString();

        var first = await client.PostJsonAsync("/api/v1/synthesis", body, idempotencyKey: "synthesis-1");
        var original = await first.AssertJsonAsync(HttpStatusCode.Created);
        var second = await client.PostJsonAsync("/api/v1/synthesis", body, idempotencyKey: "synthesis-1");

        AssertSameJson(original, await second.AssertJsonAsync(HttpStatusCode.Created));
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(["true"], second.Headers.GetValues(ReplayedHeader));
        Assert.Equal(1, await DualWritesAsync(client));
        var latest = await (await client.GetAsync(first.Headers.Location, Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(original.GetProperty("id").GetInt64(), latest.GetProperty("id").GetInt64());

        var changed = Requests.Synthesis(outputMarkdown: "# Another plan").ToJsonString();
        await (await client.PostJsonAsync("/api/v1/synthesis", changed, idempotencyKey: "synthesis-1")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(1, await DualWritesAsync(client));
    }

    [Fact]
    public async Task ARejectedRequestDoesNotUseUpItsKey()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var invalid = Requests.Artifact();
        invalid["stage"] = "BAD";

        await (await client.PostJsonAsync("/api/v1/artifacts", invalid, idempotencyKey: "fix-and-retry")).AssertValidationProblemAsync("stage");
        var fixedResponse = await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(), idempotencyKey: "fix-and-retry");

        var stored = await fixedResponse.AssertJsonAsync(HttpStatusCode.Created);
        Assert.False(fixedResponse.Headers.Contains(ReplayedHeader));
        Assert.Equal(JsonValueKind.Number, stored.GetProperty("id").ValueKind);
        Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task AdminBackupWithARepeatedKeyReplaysTheFirstBackupWithoutWritingAnother()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var first = await client.PostJsonAsync("/api/v1/admin/backup", "", idempotencyKey: "nightly-backup");
        var firstBody = await first.AssertJsonAsync(HttpStatusCode.OK);
        var again = await client.PostJsonAsync("/api/v1/admin/backup", "", idempotencyKey: "nightly-backup");
        var againBody = await again.AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(firstBody.GetProperty("path").GetString(), againBody.GetProperty("path").GetString());
        Assert.True(again.Headers.Contains(ReplayedHeader));
        Assert.Single(Directory.GetFiles(factory.BackupFolder, "*.db"));
    }

    [Fact]
    public async Task AdminVacuumKeyReusedWithOtherParametersIs409()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostJsonAsync("/api/v1/admin/vacuum?pages=3", "", idempotencyKey: "vacuum-1")).AssertJsonAsync(HttpStatusCode.OK);
        await (await client.PostJsonAsync("/api/v1/admin/vacuum?pages=4", "", idempotencyKey: "vacuum-1")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await client.PostJsonAsync("/api/v1/admin/vacuum", "", idempotencyKey: new string('k', 129))).AssertValidationProblemAsync("Idempotency-Key");
    }

    private sealed class RequestBody(PipeReader reader) : IRequestBodyPipeFeature, IHttpRequestBodyDetectionFeature
    {
        public PipeReader Reader => reader;

        public bool CanHaveBody => true;
    }
}
