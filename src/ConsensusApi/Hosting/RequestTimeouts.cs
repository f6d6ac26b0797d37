using System.Globalization;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Resilience;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Hosting;

/// <summary>
/// The default request timeout, <c>Limits:RequestTimeoutSeconds</c>. When it passes, the request's
/// cancellation token fires: waiting for a connection, for the write lane or for the next retry
/// stops, and the answer is 503 problem details with <c>Retry-After</c>. A storage attempt that is
/// already running finishes first (SQLite cannot abandon a statement half-way), so a write that
/// did commit is answered as committed, never as failed.
/// </summary>
internal static class RequestTimeouts
{
    public static IServiceCollection AddConsensusRequestTimeouts(this IServiceCollection services)
    {
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>()
            .Configure<IOptions<LimitsOptions>, IOptions<RetryOptions>>((options, limits, retry) =>
            {
                var seconds = limits.Value.RequestTimeoutSeconds;
                // As when retries run out: the backoff the next retry would have waited, at least a second.
                var retryAfter = Math.Max(1, (int)Math.Ceiling(RetryDelay.Compute(retry.Value, retry.Value.MaxAttempts, 0.5).TotalSeconds));
                options.DefaultPolicy = new RequestTimeoutPolicy
                {
                    Timeout = TimeSpan.FromSeconds(seconds),
                    TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
                    WriteTimeoutResponse = context => WriteTimedOutAsync(context, seconds, retryAfter),
                };
            });
        return services;
    }

    private static Task WriteTimedOutAsync(HttpContext context, int seconds, int retryAfter)
    {
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            detail: string.Create(CultureInfo.InvariantCulture,
                $"The request did not complete within Limits:RequestTimeoutSeconds ({seconds} s), most likely because another process holds the database's lock. Try again later; send writes with an Idempotency-Key so a retry never stores twice."))
            .ExecuteAsync(context);
    }
}
