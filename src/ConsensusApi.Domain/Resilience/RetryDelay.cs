namespace ConsensusApi.Domain.Resilience;

/// <summary>
/// The one place that turns <see cref="RetryOptions"/> into the delay before a retry:
/// exponential growth, capped, with uniform jitter, or a delay the error itself suggested.
/// </summary>
public static class RetryDelay
{
    /// <summary>
    /// Computes the delay before retry <paramref name="retryNumber"/>.
    /// </summary>
    /// <param name="options">The retry settings.</param>
    /// <param name="retryNumber">1-based: 1 is the delay before the first retry (after the first try failed).</param>
    /// <param name="random01">
    /// A uniform random value in [0, 1]; 0.5 yields the un-jittered delay, 0 the shortest and
    /// values towards 1 the longest.
    /// </param>
    /// <param name="suggested">
    /// A delay the failure asked for (for example from <c>Retry-After</c>); when present it
    /// replaces the computed delay. Negative values count as zero.
    /// </param>
    /// <returns>
    /// <c>min(InitialBackoffMs * Multiplier^(retryNumber-1), MaxBackoffMs)</c> spread uniformly over
    /// <c>base * (1 +/- JitterFactor)</c>, or <paramref name="suggested"/>; never above
    /// <see cref="RetryOptions.MaxBackoffMs"/>, never negative.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="retryNumber"/> is below 1 or <paramref name="random01"/> is outside [0, 1].
    /// </exception>
    public static TimeSpan Compute(RetryOptions options, int retryNumber, double random01, TimeSpan? suggested = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(retryNumber, 1);
        if (!(random01 is >= 0.0 and <= 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(random01), random01, "Expected a value in [0, 1].");
        }

        double maxMs = Math.Max(0, options.MaxBackoffMs);
        if (suggested is { } asked)
        {
            return TimeSpan.FromMilliseconds(Math.Clamp(asked.TotalMilliseconds, 0, maxMs));
        }

        // Math.Pow overflows to +Infinity (never throws) for large retry numbers; Min then caps it.
        var baseMs = Math.Min(options.InitialBackoffMs * Math.Pow(options.Multiplier, retryNumber - 1), maxMs);
        if (double.IsNaN(baseMs))
        {
            baseMs = maxMs;
        }

        var spread = 1.0 + (options.JitterFactor * ((2.0 * random01) - 1.0));
        return TimeSpan.FromMilliseconds(Math.Clamp(baseMs * spread, 0, maxMs));
    }
}
