using System.Net;
using System.Net.Sockets;
using ConsensusApi.Client;
using ConsensusApi.Domain.Models;
using ConsensusApi.Tests.Domain.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Client;

/// <summary>The client's resilience against a scripted network: what is retried, how long it waits, what it sends again.</summary>
public sealed class ClientRetryTests
{
    private static readonly Uri Service = new("http://consensus.test");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Artifact StoredArtifact = new()
    {
        Id = 7,
        RunId = 3,
        RunTimestamp = 1_764_118_923_456,
        SpecId = StorageTestData.SpecId,
        Stage = StorageTestData.Stage,
        AgentName = "gemini",
        Content = StorageTestData.Json("""{"plan":["a"]}"""),
        CreatedAt = StorageTestData.Start,
    };

    private static ClientHarness Harness(ScriptedHandler network, Action<ConsensusApiClientOptions>? configure = null, TimeProvider? time = null) =>
        ClientHarness.Create(
            () => network,
            options =>
            {
                options.BaseAddress = Service;
                options.ApiKey = "client-key";
                ClientHarness.FastRetries(options);
                configure?.Invoke(options);
            },
            time);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10, Ct);
        }

        Assert.True(condition(), "The condition did not become true.");
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData((HttpStatusCode)429)]
    public async Task TransientStatusIsRetriedUntilItSucceeds(HttpStatusCode status)
    {
        var network = new ScriptedHandler((_, attempt, _) => Task.FromResult(attempt < 3
            ? ScriptedHandler.Problem(status, TimeSpan.FromSeconds(1))
            : ScriptedHandler.Json(StoredArtifact, HttpStatusCode.Created)));
        await using var harness = Harness(network);

        var artifact = await harness.Client.StoreArtifactAsync(StorageTestData.Artifact(), cancellationToken: Ct);

        Assert.Equal(7, artifact.Id);
        Assert.Equal(3, network.Attempts);
        Assert.Equal(new ClientRetrySnapshot(Operations: 1, RetriedOperations: 1, Attempts: 2, Recovered: 1, Exhausted: 0), harness.Telemetry.Snapshot());
    }

    [Fact]
    public async Task EveryAttemptOfAWriteCarriesTheSameIdempotencyKeyAndBody()
    {
        var network = new ScriptedHandler((request, attempt, _) => Task.FromResult(attempt is 1 or 3
            ? ScriptedHandler.Problem(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(1))
            : ScriptedHandler.Json(StoredArtifact, HttpStatusCode.Created)));
        await using var harness = Harness(network);

        await harness.Client.StoreArtifactAsync(StorageTestData.Artifact(), cancellationToken: Ct);
        await harness.Client.StoreArtifactAsync(StorageTestData.Artifact(), cancellationToken: Ct);
        await harness.Client.GetArtifactAsync(7, Ct);

        var sent = network.Sent.ToArray();
        Assert.Equal(5, sent.Length);
        Assert.All(sent[..4], request => Assert.Matches("^[0-9a-f]{32}$", request.IdempotencyKey));
        Assert.Equal(sent[0].IdempotencyKey, sent[1].IdempotencyKey);
        Assert.Equal(sent[0].Body, sent[1].Body);
        Assert.Equal(sent[2].IdempotencyKey, sent[3].IdempotencyKey);
        Assert.NotEqual(sent[0].IdempotencyKey, sent[2].IdempotencyKey);
        Assert.Null(sent[4].IdempotencyKey);
        Assert.All(sent, request => Assert.Equal("client-key", request.ApiKey));
    }

    [Fact]
    public async Task CallersKeyIsSentAsGiven()
    {
        var network = new ScriptedHandler((_, _, _) => Task.FromResult(ScriptedHandler.Json(StoredArtifact, HttpStatusCode.Created)));
        await using var harness = Harness(network);

        await harness.Client.StoreArtifactAsync(StorageTestData.Artifact(), "plan-gemini-1764118923456", Ct);

        Assert.Equal("plan-gemini-1764118923456", Assert.Single(network.Sent).IdempotencyKey);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, ProblemKind.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized, ProblemKind.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden, ProblemKind.Forbidden)]
    [InlineData(HttpStatusCode.NotFound, ProblemKind.NotFound)]
    [InlineData(HttpStatusCode.Conflict, ProblemKind.Conflict)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, ProblemKind.ContentTooLarge)]
    public async Task PermanentErrorsAreNeverRetriedAndSurfaceTheirProblem(HttpStatusCode status, ProblemKind kind)
    {
        var network = new ScriptedHandler((_, _, _) => Task.FromResult(ScriptedHandler.Problem(status, errorsJson: """{"items[1].stage":["stage is required."]}""")));
        await using var harness = Harness(network);

        var error = await Assert.ThrowsAsync<ConsensusApiException>(() => harness.Client.StoreArtifactAsync(StorageTestData.Artifact(), cancellationToken: Ct));

        Assert.Equal(1, network.Attempts);
        Assert.Equal(status, error.Status);
        Assert.Equal(kind, error.Kind);
        Assert.Equal($"scripted {(int)status}", error.Detail);
        Assert.Equal("trace-1", error.TraceId);
        Assert.Equal(["stage is required."], error.Errors["items[1].stage"]);
        Assert.Contains("items[1].stage: stage is required.", error.Message, StringComparison.Ordinal);
        Assert.Equal(new ClientRetrySnapshot(1, 0, 0, 0, 0), harness.Telemetry.Snapshot());
    }

    [Fact]
    public async Task StorageFullIsSurfacedAsInsufficientStorage()
    {
        var network = new ScriptedHandler((_, _, _) => Task.FromResult(ScriptedHandler.Problem(HttpStatusCode.InsufficientStorage)));
        await using var harness = Harness(network);

        var error = await Assert.ThrowsAsync<ConsensusApiException>(() => harness.Client.StoreArtifactAsync(StorageTestData.Artifact(), cancellationToken: Ct));

        Assert.Equal(ProblemKind.InsufficientStorage, error.Kind);
        // A full disk does not clear itself in a backoff: 507 is permanent and never retried.
        Assert.Equal(1, network.Attempts);
    }

    [Fact]
    public async Task UnavailableThroughEveryAttemptIsThrownWithRetryAfterAndCountedExhausted()
    {
        var network = new ScriptedHandler((_, _, _) => Task.FromResult(ScriptedHandler.Problem(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(2))));
        await using var harness = Harness(network);

        var error = await Assert.ThrowsAsync<ConsensusApiException>(() => harness.Client.GetArtifactAsync(7, Ct));

        Assert.Equal(ProblemKind.ServiceUnavailable, error.Kind);
        Assert.Equal(TimeSpan.FromSeconds(2), error.RetryAfter);
        Assert.Equal(4, network.Attempts);
        Assert.Equal(new ClientRetrySnapshot(Operations: 1, RetriedOperations: 1, Attempts: 3, Recovered: 0, Exhausted: 1), harness.Telemetry.Snapshot());
    }

    [Fact]
    public async Task RetryAfterIsHonouredOnTheClientsClock()
    {
        var time = new FakeTimeProvider(StorageTestData.Start);
        var network = new ScriptedHandler((_, attempt, _) => Task.FromResult(attempt == 1
            ? ScriptedHandler.Problem(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(3))
            : ScriptedHandler.Json(StoredArtifact)));
        await using var harness = Harness(network, options =>
        {
            options.Retry.InitialBackoffMs = 100;
            options.Retry.MaxBackoffMs = 10_000;
        }, time);

        var call = harness.Client.GetArtifactAsync(7, Ct);
        await WaitUntilAsync(() => network.Attempts == 1 && time.GetUtcNow() == StorageTestData.Start);
        time.Advance(TimeSpan.FromMilliseconds(2_900));
        await Task.Delay(50, Ct);
        Assert.Equal(1, network.Attempts);
        Assert.False(call.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(100));
        var artifact = await call.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(7, artifact.Id);
        Assert.Equal(2, network.Attempts);
    }

    [Fact]
    public async Task RetryAfterAboveMaxBackoffIsCapped()
    {
        var time = new FakeTimeProvider(StorageTestData.Start);
        var network = new ScriptedHandler((_, attempt, _) => Task.FromResult(attempt == 1
            ? ScriptedHandler.Problem((HttpStatusCode)429, TimeSpan.FromHours(1))
            : ScriptedHandler.Json(StoredArtifact)));
        await using var harness = Harness(network, options =>
        {
            options.Retry.InitialBackoffMs = 100;
            options.Retry.MaxBackoffMs = 2_000;
        }, time);

        var call = harness.Client.GetArtifactAsync(7, Ct);
        await WaitUntilAsync(() => network.Attempts == 1);
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(7, (await call.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Id);
    }

    [Fact]
    public async Task AttemptThatOutlastsTheAttemptTimeoutIsAbandonedAndRetried()
    {
        var time = new FakeTimeProvider(StorageTestData.Start);
        var network = new ScriptedHandler(async (_, attempt, token) =>
        {
            if (attempt == 1)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, token);
            }

            return ScriptedHandler.Json(StoredArtifact, HttpStatusCode.Created);
        });
        await using var harness = Harness(network, options => options.AttemptTimeout = TimeSpan.FromSeconds(30), time);

        var call = harness.Client.StoreArtifactAsync(StorageTestData.Artifact(), cancellationToken: Ct);
        await WaitUntilAsync(() => network.Attempts == 1);
        time.Advance(TimeSpan.FromSeconds(30));

        // The abandoned attempt is followed by the retry's short delay, also on the fake clock.
        for (var i = 0; i < 500 && network.Attempts < 2; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(5));
            await Task.Delay(10, Ct);
        }

        Assert.Equal(7, (await call.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Id);
        var sent = network.Sent.ToArray();
        Assert.Equal(sent[0].IdempotencyKey, sent[1].IdempotencyKey);
    }

    [Fact]
    public async Task CancellationDuringTheRetryDelayStopsTheCallWithoutAnotherAttempt()
    {
        var time = new FakeTimeProvider(StorageTestData.Start);
        var network = new ScriptedHandler((_, _, _) => Task.FromResult(ScriptedHandler.Problem(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5))));
        await using var harness = Harness(network, options => options.Retry.MaxBackoffMs = 10_000, time);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = harness.Client.GetArtifactAsync(7, cancellation.Token);
        await WaitUntilAsync(() => network.Attempts == 1);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, network.Attempts);
        Assert.Equal(0, harness.Telemetry.Snapshot().Exhausted);
    }

    [Fact]
    public async Task RefusedConnectionIsRetriedThenSurfaces()
    {
        // A loopback port nobody listens on: the real socket handler reports a refused connection.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await using var harness = ClientHarness.Create(null, options =>
        {
            options.BaseAddress = new Uri($"http://127.0.0.1:{port}");
            ClientHarness.FastRetries(options);
        });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => harness.Client.ListSpecsAsync(cancellationToken: Ct));

        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        var snapshot = harness.Telemetry.Snapshot();
        Assert.Equal(3, snapshot.Attempts);
        Assert.Equal(1, snapshot.Exhausted);
    }

    [Fact]
    public async Task ReadinessProbeIsNotRetriedAndReportsUnready()
    {
        var network = new ScriptedHandler((_, _, _) => Task.FromResult(ScriptedHandler.Json(
            new HealthStatus("unhealthy", [new HealthCheckStatus("database", "unhealthy", "The database is not open.")]), HttpStatusCode.ServiceUnavailable)));
        await using var harness = Harness(network);

        var health = await harness.Client.GetReadinessAsync(Ct);

        Assert.Equal("unhealthy", health.Status);
        Assert.Equal("database", Assert.Single(health.Checks).Name);
        Assert.Equal(1, network.Attempts);
    }

    [Fact]
    public async Task OptionsComeFromTheConfigurationSection()
    {
        var network = new ScriptedHandler((_, _, _) => Task.FromResult(ScriptedHandler.Json(StoredArtifact)));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConsensusApiClient:BaseAddress"] = "http://configured.test:8080/",
            ["ConsensusApiClient:ApiKey"] = "configured-key",
            ["ConsensusApiClient:Retry:MaxAttempts"] = "5",
            ["ConsensusApiClient:AttemptTimeout"] = "00:00:10",
        }).Build();
        await using var harness = ClientHarness.Create(() => network, _ => { }, services: services => services.AddSingleton<IConfiguration>(configuration));

        await harness.Client.GetArtifactAsync(7, Ct);

        var options = harness.Services.GetRequiredService<IOptions<ConsensusApiClientOptions>>().Value;
        Assert.Equal(5, options.Retry.MaxAttempts);
        Assert.Equal(100, options.Retry.InitialBackoffMs);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        var sent = Assert.Single(network.Sent);
        Assert.Equal("configured-key", sent.ApiKey);
        Assert.Equal("/api/v1/artifacts/7", sent.PathAndQuery);
    }

    [Fact]
    public async Task InvalidOptionsNameTheirKeys()
    {
        await using var harness = ClientHarness.Create(null, options => options.Retry.MaxAttempts = 0);

        var error = Assert.Throws<OptionsValidationException>(() => harness.Client);

        Assert.Contains("ConsensusApiClient:BaseAddress must be an absolute http or https address.", error.Failures);
        Assert.Contains("ConsensusApiClient:Retry:MaxAttempts must be between 1 and 20.", error.Failures);
    }

    [Fact]
    public void DefaultsAreTheServicesRetryDefaults()
    {
        var options = new ConsensusApiClientOptions();

        Assert.Equal(3, options.Retry.MaxAttempts);
        Assert.Equal(100, options.Retry.InitialBackoffMs);
        Assert.Equal(10_000, options.Retry.MaxBackoffMs);
        Assert.Equal(2.0, options.Retry.Multiplier);
        Assert.Equal(0.5, options.Retry.JitterFactor);
        Assert.Null(options.Retry.MaxElapsedMs);
        Assert.Equal(TimeSpan.FromSeconds(30), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(100), options.Timeout);
    }
}
