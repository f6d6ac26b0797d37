using ConsensusApi.Domain.Resilience;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Client;

/// <summary>Validates <see cref="ConsensusApiClientOptions"/>; messages name the configuration key.</summary>
internal sealed class ConsensusApiClientOptionsValidator : IValidateOptions<ConsensusApiClientOptions>
{
    private const string Prefix = ConsensusApiClientOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, ConsensusApiClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.BaseAddress is not { IsAbsoluteUri: true } address || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add(Prefix + "BaseAddress must be an absolute http or https address.");
        }

        if (options.ApiKey is { } key && (key.Length == 0 || key.Any(char.IsControl)))
        {
            failures.Add(Prefix + "ApiKey must be a non-empty key without control characters.");
        }

        if (options.Timeout != System.Threading.Timeout.InfiniteTimeSpan && options.Timeout <= TimeSpan.Zero)
        {
            failures.Add(Prefix + "Timeout must be positive.");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero || options.AttemptTimeout > TimeSpan.FromDays(1))
        {
            failures.Add(Prefix + "AttemptTimeout must be positive and at most one day.");
        }

        if (options.Retry is null)
        {
            failures.Add(Prefix + "Retry is required.");
        }
        else if (new RetryOptionsValidator().Validate(name, options.Retry) is { Failed: true, Failures: { } retry })
        {
            // The shared validator names the service's section ("Retry:..."); here it lives under ours.
            failures.AddRange(retry.Select(message => Prefix + message));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
