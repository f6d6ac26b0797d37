using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ConsensusApi.Tests.Endpoints;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// Security of the service as a real process, behind Kestrel and its console log: roles per
/// route, keys configured by their SHA-256, keys never in the log even at Trace, and the header
/// and body size limits.
/// </summary>
public class SecurityTests
{
    private const string ReaderKey = "reader-key-process-7c1e";
    private const string WriterKey = "writer-key-process-40d2";
    private const string AdminKey = "admin-key-process-e93a";
    private const string UnknownKey = "guessed-key-process-0b55";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>One key per role; the writer's and the admin's configured as <c>sha256:&lt;hex&gt;</c>, so only the reader's plain key is in the configuration.</summary>
    private static Dictionary<string, string> Keys(Dictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Auth:ApiKeys:0:Name"] = "ui",
            ["Auth:ApiKeys:0:Key"] = ReaderKey,
            ["Auth:ApiKeys:0:Role"] = "reader",
            ["Auth:ApiKeys:1:Name"] = "agents",
            ["Auth:ApiKeys:1:Key"] = TestKeys.Sha256Of(WriterKey),
            ["Auth:ApiKeys:1:Role"] = "writer",
            ["Auth:ApiKeys:2:Name"] = "ops",
            ["Auth:ApiKeys:2:Key"] = TestKeys.Sha256Of(AdminKey),
            ["Auth:ApiKeys:2:Role"] = "admin",
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<HttpResponseMessage> SendAsync(RunningService service, AuthTests.Route route, string? key)
    {
        using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
        if (route.Body() is { } body)
        {
            request.Content = Json(body);
        }

        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return await service.Client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task EveryWriteAndAdminRouteRefusesReadersAndAnonymousCallersAndKeysNeverReachTheLogEvenAtTrace()
    {
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        await using var service = await RunningService.StartAsync(path, Keys(new()
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Trace",
        }), Ct);
        await (await service.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/artifacts")
        {
            Content = Json(Requests.Artifact(runTimestamp: Requests.RunTimestamp)),
            Headers = { { "X-Api-Key", WriterKey } },
        }, Ct)).AssertJsonAsync(HttpStatusCode.Created);
        await (await service.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/synthesis")
        {
            Content = Json(Requests.Synthesis()),
            Headers = { { "X-Api-Key", AdminKey } },
        }, Ct)).AssertJsonAsync(HttpStatusCode.Created);

        var refusals = 0;
        foreach (var route in AuthTests.Routes)
        {
            await (await SendAsync(service, route, key: null)).AssertProblemAsync(HttpStatusCode.Unauthorized);
            await (await SendAsync(service, route, UnknownKey)).AssertProblemAsync(HttpStatusCode.Unauthorized);
            refusals += 2;
            if (route.Needs >= AuthTests.Needs.Writer)
            {
                await (await SendAsync(service, route, ReaderKey)).AssertProblemAsync(HttpStatusCode.Forbidden);
                refusals++;
            }

            if (route.Needs == AuthTests.Needs.Admin)
            {
                await (await SendAsync(service, route, WriterKey)).AssertProblemAsync(HttpStatusCode.Forbidden);
                refusals++;
            }

            var weakest = route.Needs switch
            {
                AuthTests.Needs.Reader => ReaderKey,
                AuthTests.Needs.Writer => WriterKey,
                _ => AdminKey,
            };
            var allowed = await SendAsync(service, route, weakest);
            var text = await allowed.ReadBodyAsync();
            Assert.True(allowed.StatusCode == route.Allowed, $"{route} with its weakest role: {(int)allowed.StatusCode} {text}");
        }

        // The configured hash is not a key.
        await (await service.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/specs") { Headers = { { "X-Api-Key", TestKeys.Sha256Of(WriterKey) } } }, Ct))
            .AssertProblemAsync(HttpStatusCode.Unauthorized);

        Assert.Equal(0, await service.StopAsync(Ct));
        var log = service.Process.Output;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{AuthTests.Routes.Count} routes, {refusals} refusals checked; {log.Split('\n').Length} log lines at Trace"));
        Assert.Contains("trce:", log, StringComparison.Ordinal);
        Assert.Contains("dbug: ConsensusApi.Auth.ApiKeyAuthenticationHandler", log, StringComparison.Ordinal);
        foreach (var secret in new[] { ReaderKey, WriterKey, AdminKey, UnknownKey, TestKeys.Sha256Of(WriterKey)["sha256:".Length..] })
        {
            Assert.DoesNotContain(secret, log, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task KestrelRefusesOversizedHeadersAndTheServiceOversizedBodies()
    {
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        await using var service = await RunningService.StartAsync(path, Keys(new() { ["Limits:MaxRequestBodyBytes"] = "65536" }), Ct);

        // Headers: Kestrel's 32 KiB in all, a huge key included; refused before any middleware runs.
        foreach (var (name, value) in new[] { ("X-Padding", new string('p', 40_000)), ("X-Api-Key", new string('k', 40_000)) })
        {
            var refused = await RawAsync(service, $"GET /api/v1/specs HTTP/1.1\r\nHost: localhost\r\n{name}: {value}\r\nX-Api-Key: {ReaderKey}\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 431 ", refused, StringComparison.Ordinal);
        }

        // Bodies: declared too large (refused before it is read), and streamed (chunked) past the limit.
        // Raw connections that stop sending once past the limit: a client still sending when the server
        // closes would see the connection reset instead of the answer.
        var head = $"POST /api/v1/artifacts HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {WriterKey}\r\nContent-Type: application/json\r\n";
        var declared = await RawAsync(service, head + "Content-Length: 70000\r\n\r\n{\"specId\":\"");
        var chunk = "{\"content\":\"" + new string('b', 70_000);
        var streamed = await RawAsync(service, head + "Transfer-Encoding: chunked\r\n\r\n" + chunk.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n" + chunk + "\r\n");
        foreach (var answer in new[] { declared, streamed })
        {
            Assert.StartsWith("HTTP/1.1 413 ", answer, StringComparison.Ordinal);
            Assert.Contains("application/problem+json", answer, StringComparison.Ordinal);
            Assert.True(answer.Contains("Limits:MaxRequestBodyBytes", StringComparison.Ordinal), answer);
        }

        // Nothing was stored, and the service serves on.
        using var check = new HttpRequestMessage(HttpMethod.Get, "/api/v1/specs") { Headers = { { "X-Api-Key", ReaderKey } } };
        Assert.Empty(Page(await (await service.Client.SendAsync(check, Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items);
        Assert.Equal(0, await service.StopAsync(Ct));
    }

    /// <summary>Sends <paramref name="request"/> on a new connection, sends nothing more, and reads the answer until the server closes.</summary>
    private static async Task<string> RawAsync(RunningService service, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, service.Process.BaseAddress.Port, Ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, timeout.Token);
        return Encoding.UTF8.GetString(answer.ToArray());
    }
}
