using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using ConsensusApi.Client;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Tests.Client;

/// <summary>
/// <see cref="ConsensusApiClient"/> resolved from a container as an application registers it
/// (<c>AddConsensusApiClient</c>), with the network replaced by <paramref name="primary"/> and,
/// optionally, a handler between the retry pipeline and the network.
/// </summary>
internal sealed class ClientHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ClientHarness(ServiceProvider services) => _services = services;

    public ConsensusApiClient Client => _services.GetRequiredService<ConsensusApiClient>();

    public ConsensusApiClientTelemetry Telemetry => _services.GetRequiredService<ConsensusApiClientTelemetry>();

    public IServiceProvider Services => _services;

    /// <summary>Fast retries for tests: 4 attempts, 1-5 ms apart (a Retry-After is capped at 5 ms), no jitter.</summary>
    public static void FastRetries(ConsensusApiClientOptions options)
    {
        options.Retry.MaxAttempts = 4;
        options.Retry.InitialBackoffMs = 1;
        options.Retry.MaxBackoffMs = 5;
        options.Retry.JitterFactor = 0;
    }

    public static ClientHarness Create(
        Func<HttpMessageHandler>? primary,
        Action<ConsensusApiClientOptions> configure,
        TimeProvider? timeProvider = null,
        Func<DelegatingHandler>? between = null,
        Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        collection.AddMetrics();
        if (timeProvider is not null)
        {
            collection.AddSingleton(timeProvider);
        }

        services?.Invoke(collection);
        var builder = collection.AddConsensusApiClient(configure);
        if (between is not null)
        {
            builder.AddHttpMessageHandler(between);
        }

        if (primary is not null)
        {
            builder.ConfigurePrimaryHttpMessageHandler(primary);
        }

        return new ClientHarness(collection.BuildServiceProvider());
    }

    /// <summary>A client of the in-process service, sending the key of <paramref name="role"/> (none for null).</summary>
    public static ClientHarness For(
        ConsensusApiFactory factory, string? role, Func<DelegatingHandler>? between = null, Action<ConsensusApiClientOptions>? configure = null) =>
        Create(
            () => factory.Server.CreateHandler(),
            options =>
            {
                options.BaseAddress = factory.Server.BaseAddress;
                options.ApiKey = role is null ? null : TestKeys.For(role);
                FastRetries(options);
                configure?.Invoke(options);
            },
            between: between);

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>A network stand-in that answers each attempt as the test scripts it and records what it was sent.</summary>
internal sealed class ScriptedHandler(Func<HttpRequestMessage, int, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    private int _attempts;

    public ConcurrentQueue<SentRequest> Sent { get; } = new();

    public int Attempts => Volatile.Read(ref _attempts);

    public static HttpResponseMessage Json(object body, HttpStatusCode status = HttpStatusCode.OK) => new(status)
    {
        Content = new StringContent(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json"),
    };

    public static HttpResponseMessage Problem(HttpStatusCode status, TimeSpan? retryAfter = null, string? errorsJson = null)
    {
        var errors = errorsJson is null ? "" : $", \"errors\": {errorsJson}";
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent(
                $$"""{"type":"https://tools.ietf.org/html/rfc9110","title":"{{status}}","status":{{(int)status}},"detail":"scripted {{(int)status}}","traceId":"trace-1"{{errors}}}""",
                Encoding.UTF8,
                "application/problem+json"),
        };
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
        }

        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var attempt = Interlocked.Increment(ref _attempts);
        Sent.Enqueue(new SentRequest(
            request.Method,
            request.RequestUri?.PathAndQuery ?? "",
            request.Headers.TryGetValues(ConsensusApiClient.IdempotencyKeyHeader, out var keys) ? keys.Single() : null,
            request.Headers.TryGetValues("X-Api-Key", out var apiKeys) ? apiKeys.Single() : null,
            request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken)));
        var response = await respond(request, attempt, cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}

/// <summary>What one attempt sent.</summary>
internal sealed record SentRequest(HttpMethod Method, string PathAndQuery, string? IdempotencyKey, string? ApiKey, string? Body);
