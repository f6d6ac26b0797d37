using System.Globalization;
using System.Net;
using System.Text.Json;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class HealthAndMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LiveIs200Json()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var live = await (await client.GetAsync("/health/live", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal("healthy", live.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ReadyIs200JsonWhenTheDatabaseIsOpenAndCurrent()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var ready = await (await client.GetAsync("/health/ready", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal("healthy", ready.GetProperty("status").GetString());
        var check = Assert.Single(ready.GetProperty("checks").EnumerateArray());
        Assert.Equal("database", check.GetProperty("name").GetString());
        Assert.Equal("healthy", check.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ReadyIs503WhileLiveStays200OnceTheDatabaseIsClosed()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.GetAsync("/health/ready", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        await factory.Services.GetRequiredService<ConsensusDatabase>().DisposeAsync();

        var ready = await (await client.GetAsync("/health/ready", Ct)).AssertJsonAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("unhealthy", ready.GetProperty("status").GetString());
        Assert.Equal("unhealthy", Assert.Single(ready.GetProperty("checks").EnumerateArray()).GetProperty("status").GetString());
        await (await client.GetAsync("/health/live", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task MetricsArePrometheusTextWithConsensusAndHttpMetrics()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        // The exporter subscribes to the service's meter on its first scrape in the process.
        await ScrapeAsync(client);

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
        var response = await client.GetAsync("/metrics", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, parameter => parameter.Name == "version" && parameter.Value == "0.0.4");
        var text = await response.ReadBodyAsync();
        Assert.Contains("# TYPE consensusapi_consensus_dual_write_writes ", text, StringComparison.Ordinal);
        Assert.True(Sum(text, "consensusapi_consensus_dual_write_writes") >= 1, text);
        Assert.True(Sum(text, "consensusapi_consensus_dual_write_validations") >= 1);
        Assert.Contains("consensusapi_consensus_write_lane_batch_size_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("\nconsensusapi_consensus_pool_in_use ", text, StringComparison.Ordinal);
        Assert.Contains("\nconsensusapi_consensus_retry_rate ", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE http_requests_received_total counter", text, StringComparison.Ordinal);
        Assert.True(Sum(text, "http_requests_received_total", "code=\"201\"", "method=\"POST\"", "endpoint=\"/api/v1/artifacts/\"") >= 1, text);
        Assert.Contains("# TYPE http_request_duration_seconds histogram", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedRequestsAreCountedUnderTheStatusCodeTheClientReceived()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        using var writer = factory.CreateClient(TestKeys.Writer);
        using var anonymous = factory.CreateClient(TestKeys.Anonymous);
        await (await writer.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "a"), idempotencyKey: "metrics")).AssertJsonAsync(HttpStatusCode.Created);
        var before = await ScrapeAsync(writer);

        await (await writer.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "b"), idempotencyKey: "metrics")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await writer.SendJsonAsync(HttpMethod.Put, "/api/v1/runs", "{", idempotencyKey: null)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await writer.GetAsync("/api/v1/runs/987654", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await anonymous.DeleteAsync("/api/v1/specs/SPEC-1", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        var after = await ScrapeAsync(writer);

        // Other tests share the process-wide registry, so counters only ever grow by at least ours.
        Assert.True(Sum(after, "http_requests_received_total", "code=\"409\"", "method=\"POST\"") >= Sum(before, "http_requests_received_total", "code=\"409\"", "method=\"POST\"") + 1, after);
        Assert.True(Sum(after, "http_requests_received_total", "code=\"400\"", "method=\"PUT\"") >= Sum(before, "http_requests_received_total", "code=\"400\"", "method=\"PUT\"") + 1, after);
        Assert.True(Sum(after, "http_requests_received_total", "code=\"404\"", "method=\"GET\"") >= Sum(before, "http_requests_received_total", "code=\"404\"", "method=\"GET\"") + 1, after);
        Assert.True(Sum(after, "http_requests_received_total", "code=\"401\"", "method=\"DELETE\"") >= Sum(before, "http_requests_received_total", "code=\"401\"", "method=\"DELETE\"") + 1, after);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryApiEndpoint()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var document = await (await client.GetAsync("/swagger/v1/swagger.json", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        var paths = document.GetProperty("paths");
        foreach (var route in AuthTests.Routes)
        {
            Assert.True(paths.TryGetProperty(route.Template, out var path), $"{route.Template} is not documented");
            Assert.True(path.TryGetProperty(route.Method.ToLowerInvariant(), out var operation), $"{route} is not documented");
            var responses = operation.GetProperty("responses");
            Assert.True(responses.TryGetProperty(((int)route.Allowed).ToString(CultureInfo.InvariantCulture), out _) || responses.TryGetProperty("200", out _),
                $"{route} documents no success response");
            Assert.True(responses.TryGetProperty("401", out _), $"{route} documents no 401");
            Assert.True(responses.TryGetProperty("503", out _), $"{route} documents no 503");
        }

        Assert.Equal(JsonValueKind.Object, document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").ValueKind);
    }

    [Fact]
    public async Task SwaggerUiIsServed()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.GetAsync("/swagger/index.html", Ct);

        var html = await response.ReadBodyAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("swagger", html, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    /// <summary>Sum of the samples of <paramref name="metric"/> whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Sum(string exposition, string metric, params string[] labels) =>
        exposition.Split('\n')
            .Where(line => (line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal))
                && labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
