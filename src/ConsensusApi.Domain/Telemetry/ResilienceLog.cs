using Microsoft.Extensions.Logging;

namespace ConsensusApi.Domain.Telemetry;

/// <summary>Log messages of the retry pipeline and its telemetry (event ids 3100-3199).</summary>
internal static partial class ResilienceLog
{
    [LoggerMessage(EventId = 3100, EventName = "RetryScheduled", Level = LogLevel.Debug,
        Message = "{Operation} failed ({Reason}); retry {RetryNumber} of {MaxRetries} in {DelayMs} ms")]
    public static partial void RetryScheduled(ILogger logger, string operation, string reason, int retryNumber, int maxRetries, double delayMs);

    [LoggerMessage(EventId = 3101, EventName = "RetriesExhausted", Level = LogLevel.Information,
        Message = "{Operation} still failing ({Reason}) after {Attempts} attempts; giving up")]
    public static partial void RetriesExhausted(ILogger logger, string operation, string reason, int attempts);

    [LoggerMessage(EventId = 3102, EventName = "RetryRecovered", Level = LogLevel.Debug,
        Message = "{Operation} succeeded after {Retries} retries")]
    public static partial void RetryRecovered(ILogger logger, string operation, int retries);

    [LoggerMessage(EventId = 3110, EventName = "RetryRateHigh", Level = LogLevel.Warning,
        Message = "Retry rate is {RetryRate:P1} over the last {WindowMinutes} minutes ({RetriedOperations} of {Operations} operations needed a retry); alert threshold {Threshold:P0}")]
    public static partial void RetryRateHigh(ILogger logger, double retryRate, double windowMinutes, long retriedOperations, long operations, double threshold);

    [LoggerMessage(EventId = 3111, EventName = "RetryRateNormal", Level = LogLevel.Information,
        Message = "Retry rate is back to {RetryRate:P1} over the last {WindowMinutes} minutes ({RetriedOperations} of {Operations} operations)")]
    public static partial void RetryRateNormal(ILogger logger, double retryRate, double windowMinutes, long retriedOperations, long operations);
}
