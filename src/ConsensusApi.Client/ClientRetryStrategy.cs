using System.Net.Http;
using ConsensusApi.Domain.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ConsensusApi.Client;

/// <summary>
/// What one call of the client keeps across its attempts: its name, whether it may be retried,
/// the retries made so far and the delay planned for the next one. Travels in the request's options.
/// </summary>
internal sealed class CallState(string operation, long startTimestamp, bool retry = true)
{
    public static readonly HttpRequestOptionsKey<CallState> Key = new("ConsensusApi.Client.Call");

    public string Operation { get; } = operation;

    public long StartTimestamp { get; } = startTimestamp;

    public bool Retry { get; } = retry;

    public int Retries { get; set; }

    public TimeSpan? PlannedDelay { get; set; }

    public string Reason { get; set; } = string.Empty;
}

/// <summary>
/// The client's resilience pipeline, built on Polly v8 inside the HttpClient's handler chain
/// (Microsoft.Extensions.Http.Resilience): a retry whose decisions come from the Domain's
/// <see cref="ErrorClassifier"/> and whose delays come from <see cref="RetryDelay"/> (honouring
/// <c>Retry-After</c>), around a per-attempt timeout.
/// </summary>
internal sealed partial class ClientRetryStrategy
{
    private static readonly ResiliencePropertyKey<CallState> FallbackStateKey = new("ConsensusApi.Client.FallbackCall");

    private readonly ConsensusApiClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ConsensusApiClientTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly Func<double> _random01;

    public ClientRetryStrategy(
        ConsensusApiClientOptions options, TimeProvider timeProvider, ConsensusApiClientTelemetry telemetry, ILogger logger, Func<double>? random01 = null)
    {
        _options = options;
        _timeProvider = timeProvider;
        _telemetry = telemetry;
        _logger = logger;
        _random01 = random01 ?? Random.Shared.NextDouble;
    }

    public void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder)
    {
        builder.TimeProvider = _timeProvider;

        // Polly requires at least one retry; MaxAttempts = 1 simply means no retry strategy.
        if (_options.Retry.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = _options.Retry.MaxAttempts - 1,

                // RetryDelay owns multiplier, cap and jitter; Polly's own backoff stays out.
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                Delay = TimeSpan.Zero,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context, args.AttemptNumber)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(StateOf(args.Context).PlannedDelay ?? TimeSpan.Zero),
                OnRetry = args =>
                {
                    var state = StateOf(args.Context);
                    state.Retries++;
                    state.PlannedDelay = null;
                    _telemetry.RecordRetry(state.Operation);
                    LogRetry(_logger, state.Operation, state.Reason, args.AttemptNumber + 1, _options.Retry.MaxAttempts - 1, args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddTimeout(_options.AttemptTimeout);
    }

    /// <summary>How a failed attempt is classified: by the Domain's classifier, plus Polly's attempt timeout.</summary>
    internal ErrorClassification? Classify(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: TimeoutRejectedException } => new ErrorClassification(ErrorClass.Retryable, "attempt timeout"),
        { Exception: { } exception } => ErrorClassifier.Classify(exception),
        { Result: { IsSuccessStatusCode: false } response } => ErrorClassifier.Classify(
            response.StatusCode, ErrorClassifier.RetryAfterFrom(response.Headers.RetryAfter, _timeProvider.GetUtcNow())),
        _ => null,
    };

    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, int attemptNumber)
    {
        var state = StateOf(context);
        if (!state.Retry
            || attemptNumber >= _options.Retry.MaxAttempts - 1
            || (outcome.Exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested))
        {
            return false;
        }

        // Only transient failures: never a 4xx other than 408 and 429, never a caller's cancellation.
        if (Classify(outcome) is not { Class: ErrorClass.Retryable } classification)
        {
            return false;
        }

        var delay = RetryDelay.Compute(_options.Retry, attemptNumber + 1, _random01(), classification.SuggestedDelay);
        if (_options.Retry.MaxElapsedMs is { } budgetMs
            && _timeProvider.GetElapsedTime(state.StartTimestamp) + delay > TimeSpan.FromMilliseconds(budgetMs))
        {
            return false;
        }

        state.PlannedDelay = delay;
        state.Reason = classification.Reason;
        return true;
    }

    // A request sent through this HttpClient by other code than ConsensusApiClient has no state of
    // its own; it gets one for the duration of its pipeline execution.
    private CallState StateOf(ResilienceContext context)
    {
        if (context.GetRequestMessage() is { } request && request.Options.TryGetValue(CallState.Key, out var state))
        {
            return state;
        }

        if (!context.Properties.TryGetValue(FallbackStateKey, out var fallback))
        {
            fallback = new CallState(context.OperationKey ?? "http", _timeProvider.GetTimestamp());
            context.Properties.Set(FallbackStateKey, fallback);
        }

        return fallback;
    }

    [LoggerMessage(3001, LogLevel.Information, "Retrying {Operation} ({Reason}): retry {Retry} of {MaxRetries} in {DelayMs} ms.")]
    private static partial void LogRetry(ILogger logger, string operation, string reason, int retry, int maxRetries, double delayMs);
}
