using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class ErrorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertNothingStoredAsync(HttpClient client) =>
        Assert.Empty(Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);

    [Theory]
    [InlineData("/api/v1/artifacts", """{"specId":""")]
    [InlineData("/api/v1/artifacts", """{"specId":"SPEC-1",}""")]
    [InlineData("/api/v1/artifacts", "not json")]
    [InlineData("/api/v1/artifacts/batch", """{"items":[{]}""")]
    [InlineData("/api/v1/synthesis", "{'specId':'SPEC-1'}")]
    public async Task MalformedJsonIs400Problem(string url, string body)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostJsonAsync(url, body)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task MalformedJsonOnPutIs400Problem()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.SendJsonAsync(HttpMethod.Put, "/api/v1/runs", "{", idempotencyKey: null);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("runTimestamp", "\"1764118923456\"", "runTimestamp")]
    [InlineData("runTimestamp", "1.5", "runTimestamp")]
    [InlineData("specId", "945", "specId")]
    [InlineData("agentName", "[\"gemini\"]", "agentName")]
    [InlineData("stage", "true", "stage")]
    public async Task AWrongTypeIs400ProblemNamingTheField(string field, string value, string named)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = Requests.Artifact();
        request[field] = JsonNode.Parse(value);

        var problem = await (await client.PostJsonAsync("/api/v1/artifacts", request)).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(named, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(client);
    }

    [Theory]
    [InlineData("consensusOk", "\"yes\"")]
    [InlineData("runTimestamp", "\"5\"")]
    [InlineData("degraded", "1")]
    public async Task AWrongTypeInARunIs400Problem(string field, string value)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = Requests.Run();
        request[field] = JsonNode.Parse(value);

        await (await client.PutJsonAsync("/api/v1/runs", request)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Empty(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task AWrongTypeInASynthesisIs400Problem()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = Requests.Synthesis();
        request["artifactsCount"] = "three";

        await (await client.PostJsonAsync("/api/v1/synthesis", request)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task NullContentIsAValidationError()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = Requests.Artifact();
        request["content"] = null;

        await (await client.PostJsonAsync("/api/v1/artifacts", request)).AssertValidationProblemAsync("content");
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task MissingContentIsAValidationError()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var request = Requests.Artifact();
        request.Remove("content");

        await (await client.PostJsonAsync("/api/v1/artifacts", request)).AssertValidationProblemAsync("content");
        await AssertNothingStoredAsync(client);
    }

    [Theory]
    [InlineData("/api/v1/artifacts")]
    [InlineData("/api/v1/artifacts/batch")]
    [InlineData("/api/v1/synthesis")]
    public async Task AMissingBodyIs400Problem(string url)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostAsync(url, content: null, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.PostJsonAsync(url, "")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.PostJsonAsync(url, "null")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task AMissingBodyOnPutIs400Problem()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PutAsync("/api/v1/runs", content: null, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.SendJsonAsync(HttpMethod.Put, "/api/v1/runs", "null", idempotencyKey: null)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task ABodyThatIsNotDeclaredJsonIs415Problem(string mediaType)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.PostAsync("/api/v1/artifacts", new StringContent(Requests.Artifact().ToJsonString(), Encoding.UTF8, mediaType), Ct);

        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await AssertNothingStoredAsync(client);
    }

    [Theory]
    [InlineData("/api/v1/nothing-here")]
    [InlineData("/api/v1/artifacts/1/extra")]
    [InlineData("/api/v2/specs")]
    [InlineData("/")]
    [InlineData("/index.html")]
    public async Task AnUnknownRouteIs404Problem(string url)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var problem = await (await client.GetAsync(url, Ct)).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("Not Found", problem.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("DELETE", "/api/v1/artifacts", "POST")]
    [InlineData("GET", "/api/v1/runs", "PUT")]
    [InlineData("POST", "/api/v1/runs", "PUT")]
    [InlineData("PATCH", "/api/v1/artifacts/1", "GET")]
    [InlineData("PUT", "/api/v1/synthesis", "POST")]
    [InlineData("GET", "/api/v1/admin/backup", "POST")]
    public async Task AWrongMethodIs405ProblemWithAllow(string method, string url, string allowed)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = Json("{}") };

        var response = await client.SendAsync(request, Ct);

        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
        Assert.Contains(allowed, response.Content.Headers.Allow);
    }

    [Fact]
    public async Task ContentOverMaxContentBytesIs413AndWritesNothing()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxContentBytes"] = "100" });
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var justFits = $"\"{new string('x', 98)}\"";
        var tooLarge = $"\"{new string('x', 99)}\"";

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(content: justFits))).AssertJsonAsync(HttpStatusCode.Created);
        var problem = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "big", content: tooLarge))).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("content", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var stored = Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;
        Assert.Equal("gemini", Assert.Single(stored).GetProperty("agentName").GetString());
    }

    [Fact]
    public async Task ABatchWithOneContentOverTheLimitIs413AndWritesNothing()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxContentBytes"] = "100" });
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var batch = Requests.Batch(Requests.Artifact(), Requests.Artifact(content: $"[\"{new string('x', 200)}\"]"), Requests.Artifact());

        var problem = await (await client.PostJsonAsync("/api/v1/artifacts/batch", batch)).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("items[1].content", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task ASynthesisOverTheContentLimitIs413AndWritesNothing()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxContentBytes"] = "100" });
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(outputMarkdown: new string('#', 101)));

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await AssertNothingStoredAsync(client);
    }

    [Theory]
    [InlineData("/api/v1/artifacts")]
    [InlineData("/api/v1/artifacts/batch")]
    [InlineData("/api/v1/synthesis")]
    public async Task ABodyOverMaxRequestBodyBytesIs413AndWritesNothing(string url)
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Limits:MaxRequestBodyBytes"] = "2048" });
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var artifact = Requests.Artifact();
        artifact["responseText"] = new string('r', 4000);
        JsonNode body = url switch
        {
            "/api/v1/artifacts/batch" => Requests.Batch(artifact),
            "/api/v1/synthesis" => Requests.Synthesis(outputMarkdown: new string('#', 4000)),
            _ => artifact,
        };

        var problem = await (await client.PostJsonAsync(url, body)).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("Limits:MaxRequestBodyBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(client);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task StorageThatStaysLockedIs503WithRetryAfterAndRecoversOnceReleased()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?>
        {
            ["Database:BusyTimeoutMs"] = "50",
            ["Retry:MaxAttempts"] = "2",
            ["Retry:InitialBackoffMs"] = "10",
            ["Retry:MaxBackoffMs"] = "20",
        });
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "before"))).AssertJsonAsync(HttpStatusCode.Created);

        await using (var locker = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = factory.DatabasePath, Pooling = false }.ToString()))
        {
            await locker.OpenAsync(Ct);
            await using (var begin = locker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync(Ct);
            }

            var locked = await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "while-locked"));

            var problem = await locked.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.6.4", problem.GetProperty("type").GetString());
            var retryAfter = Assert.Single(locked.Headers.GetValues("Retry-After"));
            Assert.True(int.TryParse(retryAfter, out var seconds) && seconds >= 1, $"Retry-After must be whole seconds, got '{retryAfter}'");
            var readWhileLocked = Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;
            Assert.Equal("before", Assert.Single(readWhileLocked).GetProperty("agentName").GetString());
        }

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "after"))).AssertJsonAsync(HttpStatusCode.Created);
        var stored = Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;
        Assert.Equal(["after", "before"], stored.Select(item => item.GetProperty("agentName").GetString()));
        var retry = (await (await client.GetAsync("/api/v1/admin/telemetry", Ct)).AssertJsonAsync(HttpStatusCode.OK)).GetProperty("retry");
        Assert.True(retry.GetProperty("exhausted").GetInt64() >= 1, retry.ToString());
        Assert.True(retry.GetProperty("attempts").GetInt64() >= 1, retry.ToString());
    }

    [Fact]
    public async Task AFullDatabaseIs507WritesNothingKeepsReadingAndRecoversWhenThereIsRoom()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var before = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "before"))).AssertJsonAsync(HttpStatusCode.Created);
        var database = factory.Services.GetRequiredService<ConsensusDatabase>();
        var large = $"\"{new string('x', 256 * 1024)}\"";

        // max_page_count is per connection: cap the write lane's own connection just above the file's size.
        await database.Writes.ExecuteAloneAsync((connection, _) => Pragma(connection, "max_page_count = " + (Pragma(connection, "page_count") + 4)), Ct);
        var full = await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "too-big", content: large));
        var fullBatch = await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch(Requests.Artifact(agentName: "batch-small"), Requests.Artifact(agentName: "batch-big", content: large)));

        var problem = await full.AssertProblemAsync(HttpStatusCode.InsufficientStorage);
        Assert.Equal("https://tools.ietf.org/html/rfc4918#section-11.5", problem.GetProperty("type").GetString());
        await fullBatch.AssertProblemAsync(HttpStatusCode.InsufficientStorage);
        var stored = Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;
        AssertSameJson(before, Assert.Single(stored));
        Assert.Single(Page(await (await client.GetAsync(Requests.RunsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        var spec = Page(await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Single();
        Assert.Equal(1, spec.GetProperty("artifactCount").GetInt64());

        await database.Writes.ExecuteAloneAsync((connection, _) => Pragma(connection, "max_page_count = 4294967294"), Ct);
        var after = await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "after", content: large))).AssertJsonAsync(HttpStatusCode.Created);

        AssertSameJson(large, after.GetProperty("content"));
        Assert.Equal(2, Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items.Length);
    }

    private static long Pragma(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static TheoryData<string, string, string> GarbageRequests() => new()
    {
        { "POST", "/api/v1/artifacts", "[]" },
        { "POST", "/api/v1/artifacts", "\"text\"" },
        { "POST", "/api/v1/artifacts", "12" },
        { "POST", "/api/v1/artifacts", """{"content":{"deep":""" + new string('[', 200) + new string(']', 200) + "}}" },
        { "POST", "/api/v1/artifacts", """{"specId":"\uD800","stage":"spec-plan","agentName":"a","content":1}""" },
        { "POST", "/api/v1/artifacts", """{"specId":"SPEC-1","stage":"spec-plan","agentName":"a","content":1,"runTimestamp":99999999999999999999}""" },
        { "POST", "/api/v1/artifacts", """{"specId":"SPEC-1","stage":"spec-plan","agentName":"a","content":1,"runTimestamp":-5}""" },
        { "POST", "/api/v1/artifacts/batch", "[]" },
        { "POST", "/api/v1/artifacts/batch", """{"items":{}}""" },
        { "POST", "/api/v1/artifacts/batch", """{"items":[1,2]}""" },
        { "PUT", "/api/v1/runs", "[]" },
        { "PUT", "/api/v1/runs", """{"specId":"SPEC-1","stage":"spec-plan","runTimestamp":1,"consensusOk":true,"synthesis":"text"}""" },
        { "PUT", "/api/v1/runs", """{"specId":"SPEC-1","stage":"spec-plan","runTimestamp":1,"consensusOk":null}""" },
        { "POST", "/api/v1/synthesis", "{}" },
        { "POST", "/api/v1/synthesis", """{"specId":"SPEC-1","stage":"spec-plan","outputMarkdown":null,"status":"ok"}""" },
        { "POST", "/api/v1/synthesis", """{"specId":"SPEC-1","stage":"spec-plan","outputMarkdown":"x","status":"ok","artifactsCount":1e40}""" },
        { "POST", "/api/v1/admin/vacuum?pages=abc", "" },
        { "POST", "/api/v1/admin/vacuum?pages=99999999999", "" },
        { "GET", "/api/v1/specs/SPEC-1/stages/spec-plan/artifacts?limit=99999999999", "" },
        { "GET", "/api/v1/specs/SPEC-1/stages/spec-plan/artifacts?cursor=" + new string('A', 600), "" },
        { "GET", "/api/v1/specs/SPEC-1/stages/spec-plan/runs?cursor=LTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ", "" },
        { "GET", "/api/v1/runs/-1", "" },
        { "DELETE", "/api/v1/specs/" + new string('s', 129), "" },
    };

    [Theory]
    [MemberData(nameof(GarbageRequests))]
    public async Task BadInputIsAClientErrorProblemNeverA500(string method, string url, string body)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = body.Length == 0 ? null : Json(body) };

        var response = await client.SendAsync(request, Ct);

        var text = await response.ReadBodyAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{method} {url}: {(int)response.StatusCode} {text}");
        var problem = await response.AssertProblemAsync(response.StatusCode);
        Assert.Equal(JsonValueKind.Object, problem.ValueKind);
        await AssertNothingStoredAsync(client);
    }
}
