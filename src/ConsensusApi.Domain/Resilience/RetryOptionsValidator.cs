using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Resilience;

/// <summary>
/// Validates <see cref="RetryOptions"/>: every range (so the options are checked even where the
/// DataAnnotations validator is not registered) and the cross-field rule
/// <c>InitialBackoffMs &lt;= MaxBackoffMs</c>. All failures are reported together.
/// </summary>
public sealed class RetryOptionsValidator : IValidateOptions<RetryOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        var failures = new List<string>();
        if (options.MaxAttempts is < 1 or > 20)
        {
            failures.Add(RetryOptions.MaxAttemptsMessage);
        }

        if (options.InitialBackoffMs is < 1 or > 600_000)
        {
            failures.Add(RetryOptions.InitialBackoffMessage);
        }

        if (options.MaxBackoffMs is < 1 or > 600_000)
        {
            failures.Add(RetryOptions.MaxBackoffMessage);
        }

        // Written as "not within" so that NaN fails too.
        if (!(options.Multiplier is >= 1.0 and <= 10.0))
        {
            failures.Add(RetryOptions.MultiplierMessage);
        }

        if (!(options.JitterFactor is >= 0.0 and <= 1.0))
        {
            failures.Add(RetryOptions.JitterFactorMessage);
        }

        if (options.MaxElapsedMs is < 1 or > 3_600_000)
        {
            failures.Add(RetryOptions.MaxElapsedMessage);
        }

        if (options.InitialBackoffMs > options.MaxBackoffMs)
        {
            failures.Add(RetryOptions.InitialAboveMaxMessage);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
