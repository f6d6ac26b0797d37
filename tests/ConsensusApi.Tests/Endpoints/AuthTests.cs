using System.Net;
using System.Text.Json.Nodes;
using ConsensusApi.Auth;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class AuthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Who may call a route: the weakest role that is allowed.</summary>
    public enum Needs
    {
        Reader,
        Writer,
        Admin,
    }

    /// <summary>One /api/v1 route: its template, a concrete request, who may call it and what an allowed caller gets.</summary>
    public sealed record Route(string Method, string Template, string Url, Func<JsonNode?> Body, Needs Needs, HttpStatusCode Allowed)
    {
        public override string ToString() => $"{Method} {Template}";
    }

    private static readonly string Stage = $"/api/v1/specs/{Requests.SpecId}/stages/{Requests.Stage}";

    /// <summary>Every /api/v1 route. The concrete requests are valid against <see cref="SeedAsync"/>, so an allowed call succeeds.</summary>
    public static readonly IReadOnlyList<Route> Routes =
    [
        new("POST", "/api/v1/artifacts", "/api/v1/artifacts", () => Requests.Artifact(), Needs.Writer, HttpStatusCode.Created),
        new("POST", "/api/v1/artifacts/batch", "/api/v1/artifacts/batch", () => Requests.Batch(Requests.Artifact()), Needs.Writer, HttpStatusCode.Created),
        new("GET", "/api/v1/artifacts/{id}", "/api/v1/artifacts/1", () => null, Needs.Reader, HttpStatusCode.OK),
        new("GET", "/api/v1/specs/{specId}/stages/{stage}/artifacts", Stage + "/artifacts", () => null, Needs.Reader, HttpStatusCode.OK),
        new("PUT", "/api/v1/runs", "/api/v1/runs", () => Requests.Run(), Needs.Writer, HttpStatusCode.OK),
        new("GET", "/api/v1/runs/{id}", "/api/v1/runs/1", () => null, Needs.Reader, HttpStatusCode.OK),
        new("GET", "/api/v1/specs/{specId}/stages/{stage}/runs", Stage + "/runs", () => null, Needs.Reader, HttpStatusCode.OK),
        new("GET", "/api/v1/specs/{specId}/stages/{stage}/runs/latest", Stage + "/runs/latest", () => null, Needs.Reader, HttpStatusCode.OK),
        new("POST", "/api/v1/synthesis", "/api/v1/synthesis", () => Requests.Synthesis(), Needs.Writer, HttpStatusCode.Created),
        new("GET", "/api/v1/specs/{specId}/stages/{stage}/synthesis/latest", Stage + "/synthesis/latest", () => null, Needs.Reader, HttpStatusCode.OK),
        new("GET", "/api/v1/specs", "/api/v1/specs", () => null, Needs.Reader, HttpStatusCode.OK),
        // Deleting a spec that was never stored: an allowed caller gets past authorization to the 404.
        new("DELETE", "/api/v1/specs/{specId}", "/api/v1/specs/SPEC-NEVER-STORED", () => null, Needs.Writer, HttpStatusCode.NotFound),
        new("DELETE", "/api/v1/specs/{specId}/stages/{stage}", "/api/v1/specs/SPEC-NEVER-STORED/stages/spec-plan", () => null, Needs.Writer, HttpStatusCode.NotFound),
        new("GET", "/api/v1/admin/migrations", "/api/v1/admin/migrations", () => null, Needs.Admin, HttpStatusCode.OK),
        new("GET", "/api/v1/admin/storage", "/api/v1/admin/storage", () => null, Needs.Admin, HttpStatusCode.OK),
        new("GET", "/api/v1/admin/pragmas", "/api/v1/admin/pragmas", () => null, Needs.Admin, HttpStatusCode.OK),
        new("POST", "/api/v1/admin/vacuum", "/api/v1/admin/vacuum?pages=1", () => null, Needs.Admin, HttpStatusCode.OK),
        new("POST", "/api/v1/admin/backup", "/api/v1/admin/backup", () => null, Needs.Admin, HttpStatusCode.OK),
        new("GET", "/api/v1/admin/telemetry", "/api/v1/admin/telemetry", () => null, Needs.Admin, HttpStatusCode.OK),
    ];

    public static TheoryData<string> RouteNames() => [.. Routes.Select(route => route.ToString())];

    private static async Task SeedAsync(ConsensusApiFactory factory)
    {
        using var admin = factory.CreateClient(TestKeys.Admin);
        await (await admin.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(runTimestamp: Requests.RunTimestamp))).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis())).AssertJsonAsync(HttpStatusCode.Created);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Route route)
    {
        using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
        if (route.Body() is { } body)
        {
            request.Content = Json(body);
        }

        return await client.SendAsync(request, Ct);
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("ApiKey", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Theory]
    [MemberData(nameof(RouteNames))]
    public async Task EveryRouteAdmitsExactlyTheRolesItShould(string name)
    {
        var route = Routes.Single(candidate => candidate.ToString() == name);
        await using var factory = ConsensusApiFactory.WithKeys();
        await SeedAsync(factory);

        using (var anonymous = factory.CreateClient(TestKeys.Anonymous))
        {
            await AssertUnauthorizedAsync(await SendAsync(anonymous, route));
        }

        foreach (var (role, rank) in new[] { (TestKeys.Reader, Needs.Reader), (TestKeys.Writer, Needs.Writer), (TestKeys.Admin, Needs.Admin) })
        {
            using var client = factory.CreateClient(role);
            var response = await SendAsync(client, route);
            if (rank >= route.Needs)
            {
                var body = await response.ReadBodyAsync();
                Assert.True(response.StatusCode == route.Allowed, $"{role} on {route}: expected {(int)route.Allowed}, got {(int)response.StatusCode} {body}");
            }
            else
            {
                var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
                Assert.Contains(role, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task TheRouteTableCoversEveryApiEndpointTheServiceMaps()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        _ = factory.Server;

        var mapped = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(endpoint => endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods
                .Select(method => $"{method} {endpoint.RoutePattern.RawText!.TrimEnd('/')}") ?? [])
            .Order(StringComparer.Ordinal);

        Assert.Equal(Routes.Select(route => route.ToString()).Order(StringComparer.Ordinal), mapped);
    }

    [Fact]
    public async Task NoKeyIs401ProblemWithAChallenge()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.GetAsync("/api/v1/specs", Ct);

        await AssertUnauthorizedAsync(response);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-configured-key")]
    [InlineData("READER-KEY-5F0C1D")]
    [InlineData("reader-key-5f0c1d ")]
    [InlineData("reader-key-5f0c1")]
    public async Task AnUnknownKeyIs401(string key)
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        using var client = factory.CreateClientWithKey(key);

        var response = await client.GetAsync("/api/v1/specs", Ct);

        await AssertUnauthorizedAsync(response);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.DoesNotContain(key.Trim(), problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownKeyCannotWrite()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        using var client = factory.CreateClientWithKey("guessed-key");

        await AssertUnauthorizedAsync(await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact()));
        using var admin = factory.CreateClient(TestKeys.Admin);
        Assert.Empty(Page(await (await admin.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
    }

    [Fact]
    public async Task AReaderCanReadButNotWrite()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        await SeedAsync(factory);
        using var reader = factory.CreateClient(TestKeys.Reader);

        Assert.Single(Page(await (await reader.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        await (await reader.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.PutJsonAsync("/api/v1/runs", Requests.Run(consensusOk: false))).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.DeleteAsync($"/api/v1/specs/{Requests.SpecId}", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);

        Assert.Single(Page(await (await reader.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.True((await (await reader.GetAsync(Requests.RunsOf() + "/latest", Ct)).AssertJsonAsync(HttpStatusCode.OK)).GetProperty("consensusOk").GetBoolean());
    }

    [Fact]
    public async Task AWriterCanWriteButNotAdminister()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        using var writer = factory.CreateClient(TestKeys.Writer);

        await (await writer.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
        await (await writer.GetAsync("/api/v1/admin/storage", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await writer.PostAsync("/api/v1/admin/backup", null, Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);

        Assert.False(Directory.Exists(factory.BackupFolder) && Directory.EnumerateFiles(factory.BackupFolder).Any());
        await (await writer.DeleteAsync($"/api/v1/specs/{Requests.SpecId}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnAdminCanDoEverything()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        using var admin = factory.CreateClient(TestKeys.Admin);

        await (await admin.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK);
        await (await admin.GetAsync("/api/v1/admin/migrations", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        await (await admin.DeleteAsync($"/api/v1/specs/{Requests.SpecId}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ApiKeysNeverReachTheLog()
    {
        await using var factory = ConsensusApiFactory.WithKeys(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        });
        const string unknown = "an-unknown-key-0123";

        foreach (var (role, _) in TestKeys.ByRole)
        {
            using var client = factory.CreateClient(role);
            await client.GetAsync("/api/v1/specs", Ct);
            await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact());
            await client.GetAsync("/api/v1/admin/storage", Ct);
        }

        using (var stranger = factory.CreateClientWithKey(unknown))
        {
            await AssertUnauthorizedAsync(await stranger.GetAsync("/api/v1/specs", Ct));
        }

        var logs = factory.Logs;
        Assert.NotEmpty(logs);
        foreach (var secret in TestKeys.ByRole.Select(entry => entry.Key).Append(unknown))
        {
            Assert.DoesNotContain(logs, entry => entry.Message.Contains(secret, StringComparison.Ordinal) || (entry.Exception?.ToString().Contains(secret, StringComparison.Ordinal) ?? false));
        }
    }

    [Theory]
    [InlineData("/health/live", "application/json")]
    [InlineData("/health/ready", "application/json")]
    [InlineData("/swagger/v1/swagger.json", "application/json")]
    [InlineData("/swagger/index.html", "text/html")]
    [InlineData("/metrics", "text/plain")]
    public async Task OperationsEndpointsNeedNoKey(string url, string mediaType)
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var response = await client.GetAsync(url, Ct);

        await response.ReadBodyAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AKeyConfiguredAsItsSha256AuthenticatesWithThePlainKey()
    {
        const string plain = "a plain key that never sits in a file";
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0:Name"] = "ci",
            ["Auth:ApiKeys:0:Key"] = TestKeys.Sha256Of(plain),
            ["Auth:ApiKeys:0:Role"] = "writer",
        });

        using (var client = factory.CreateClientWithKey(plain))
        {
            await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
            await (await client.GetAsync("/api/v1/admin/telemetry", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        }

        using (var hashAsKey = factory.CreateClientWithKey(TestKeys.Sha256Of(plain)))
        {
            await AssertUnauthorizedAsync(await hashAsKey.GetAsync("/api/v1/specs", Ct));
        }

        using (var otherCase = factory.CreateClientWithKey(plain.ToUpperInvariant()))
        {
            await AssertUnauthorizedAsync(await otherCase.GetAsync("/api/v1/specs", Ct));
        }
    }

    [Fact]
    public async Task AnUppercaseSha256HexConfigurationWorksToo()
    {
        const string plain = "another-key";
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0:Name"] = "ops",
            ["Auth:ApiKeys:0:Key"] = "sha256:" + TestKeys.Sha256Of(plain)["sha256:".Length..].ToUpperInvariant(),
            ["Auth:ApiKeys:0:Role"] = "admin",
        });
        using var client = factory.CreateClientWithKey(plain);

        await (await client.GetAsync("/api/v1/admin/pragmas", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task WithoutKeysTheServiceIsOpenToEveryCall()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.GetAsync("/api/v1/admin/telemetry", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        await (await client.DeleteAsync($"/api/v1/specs/{Requests.SpecId}", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("urls", "http://0.0.0.0:5000")]
    [InlineData("urls", "http://127.0.0.1:5000;http://+:5001")]
    [InlineData("urls", "http://example.com:80")]
    [InlineData("http_ports", "8080")]
    [InlineData("Kestrel:Endpoints:Http:Url", "http://*:5000")]
    public async Task AnOpenServiceRefusesToStartOnANonLoopbackAddress(string key, string value)
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { [key] = value });

        var exception = Assert.IsType<StartupRefusedException>(factory.StartupFailure());

        Assert.Contains("Auth:ApiKeys", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000")]
    [InlineData("http://localhost:5000;http://[::1]:5001")]
    public async Task AnOpenServiceStartsOnLoopback(string urls)
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["urls"] = urls });
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.GetAsync("/health/ready", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AServiceWithKeysStartsOnAnyAddress()
    {
        await using var factory = ConsensusApiFactory.WithKeys(new Dictionary<string, string?> { ["urls"] = "http://0.0.0.0:5000" });
        using var client = factory.CreateClient(TestKeys.Reader);

        await (await client.GetAsync("/api/v1/specs", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }
}
