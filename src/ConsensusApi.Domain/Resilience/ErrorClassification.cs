namespace ConsensusApi.Domain.Resilience;

/// <summary>What retrying can do about a failure.</summary>
public enum ErrorClass
{
    /// <summary>Transient (busy, locked, timed out, unavailable, rate limited): trying again may succeed.</summary>
    Retryable,

    /// <summary>Trying again gives the same answer (invalid input, not found, denied, constraint, corrupt, full).</summary>
    Permanent,

    /// <summary>A partial result (a 2-of-3 consensus): worth exactly one more try.</summary>
    Degraded,
}

/// <summary>The verdict of <see cref="ErrorClassifier"/> on one failure.</summary>
/// <param name="Class">Whether the failure is transient, permanent or degraded.</param>
/// <param name="Reason">A short, stable, human-readable cause (for logs and messages), e.g. <c>database busy</c>.</param>
/// <param name="SuggestedDelay">
/// A delay the failure itself asked for (a <c>Retry-After</c>), which replaces the computed backoff;
/// <see langword="null"/> when it did not ask.
/// </param>
public readonly record struct ErrorClassification(ErrorClass Class, string Reason, TimeSpan? SuggestedDelay = null)
{
    /// <summary>
    /// <see langword="true"/> for <see cref="ErrorClass.Retryable"/> and <see cref="ErrorClass.Degraded"/>
    /// (a degraded failure is retried once at most).
    /// </summary>
    public bool IsRetryable => Class is ErrorClass.Retryable or ErrorClass.Degraded;
}
