using System.ComponentModel.DataAnnotations;

namespace ConsensusApi.Domain.Resilience;

/// <summary>
/// How storage operations are retried after a transient failure (configuration section
/// <c>Retry</c>). The delay before retry <c>n</c> is
/// <c>min(InitialBackoffMs * Multiplier^(n-1), MaxBackoffMs)</c>, spread by jitter; see
/// <see cref="RetryDelay.Compute"/>.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Retry";

    internal const string MaxAttemptsMessage = "Retry:MaxAttempts must be between 1 and 20.";
    internal const string InitialBackoffMessage = "Retry:InitialBackoffMs must be between 1 and 600000.";
    internal const string MaxBackoffMessage = "Retry:MaxBackoffMs must be between 1 and 600000.";
    internal const string MultiplierMessage = "Retry:Multiplier must be between 1.0 and 10.0.";
    internal const string JitterFactorMessage = "Retry:JitterFactor must be between 0.0 and 1.0.";
    internal const string MaxElapsedMessage = "Retry:MaxElapsedMs must be between 1 and 3600000 when set.";
    internal const string InitialAboveMaxMessage = "Retry:InitialBackoffMs must be <= Retry:MaxBackoffMs.";

    /// <summary>
    /// Total tries including the first one (1 disables retrying). Default 3; 1 to 20.
    /// </summary>
    [Range(1, 20, ErrorMessage = MaxAttemptsMessage)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Delay before the first retry, in milliseconds. Default 100; 1 to 600000.</summary>
    [Range(1, 600_000, ErrorMessage = InitialBackoffMessage)]
    public int InitialBackoffMs { get; set; } = 100;

    /// <summary>
    /// Upper bound of any delay, including jittered and suggested (Retry-After) delays, in
    /// milliseconds. Default 10000; 1 to 600000; not below <see cref="InitialBackoffMs"/>.
    /// </summary>
    [Range(1, 600_000, ErrorMessage = MaxBackoffMessage)]
    public int MaxBackoffMs { get; set; } = 10_000;

    /// <summary>Growth factor of the delay from one retry to the next. Default 2.0; 1.0 to 10.0.</summary>
    [Range(1.0, 10.0, ErrorMessage = MultiplierMessage)]
    public double Multiplier { get; set; } = 2.0;

    /// <summary>
    /// Relative spread of each delay: it is drawn uniformly from
    /// <c>delay * (1 - JitterFactor)</c> to <c>delay * (1 + JitterFactor)</c>. Default 0.5;
    /// 0.0 (no jitter) to 1.0.
    /// </summary>
    [Range(0.0, 1.0, ErrorMessage = JitterFactorMessage)]
    public double JitterFactor { get; set; } = 0.5;

    /// <summary>
    /// Optional time budget of one operation, in milliseconds, measured from its first try:
    /// a retry is only made when its delay ends within the budget. Default <see langword="null"/>
    /// (only <see cref="MaxAttempts"/> limits retrying); when set, 1 to 3600000.
    /// </summary>
    [Range(1, 3_600_000, ErrorMessage = MaxElapsedMessage)]
    public int? MaxElapsedMs { get; set; }
}
