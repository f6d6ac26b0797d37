using ConsensusApi.Domain.Resilience;

namespace ConsensusApi.Client;

/// <summary>
/// Where the service is and how the client talks to it (configuration section
/// <c>ConsensusApiClient</c>).
/// </summary>
public sealed class ConsensusApiClientOptions
{
    /// <summary>The configuration section these options are bound from by default.</summary>
    public const string SectionName = "ConsensusApiClient";

    /// <summary>The service's address, e.g. <c>http://localhost:5000</c>. Required.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The API key sent as <c>X-Api-Key</c>; none when <see langword="null"/> (an open service).</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Longest time one call may take, retries and their delays included. Default 100 seconds;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for none.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Longest time one attempt may take; an attempt that outlasts it is abandoned and retried
    /// (writes carry an <c>Idempotency-Key</c>, so the server stores them once). Default 30 seconds.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Retry of transient failures (section <c>ConsensusApiClient:Retry</c>), with the service's
    /// own defaults: 3 attempts in all, 100 ms before the first retry, doubling, at most 10 s,
    /// jitter 0.5. A <c>Retry-After</c> of a 429 or 503 replaces the computed delay, capped at
    /// <see cref="RetryOptions.MaxBackoffMs"/>.
    /// </summary>
    public RetryOptions Retry { get; set; } = new();
}
