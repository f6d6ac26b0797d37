using ConsensusApi.Domain.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Resilience;

/// <summary>Registers the retry pipeline and what it needs.</summary>
public static class ResilienceServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="RetryOptions"/> from the <c>Retry</c> section, validated at start-up by
    /// <see cref="RetryOptionsValidator"/>, and adds <see cref="RetryTelemetry"/> and
    /// <see cref="StoragePipeline"/> as singletons (plus <see cref="TimeProvider.System"/> and
    /// <see cref="ConsensusMetrics"/> unless already registered). Needs an
    /// <see cref="System.Diagnostics.Metrics.IMeterFactory"/> (the host provides one).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddConsensusResilience(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        // The validator re-checks every DataAnnotations range as well, so registering the
        // DataAnnotations validator too would only report each range failure twice.
        services.AddOptions<RetryOptions>()
            .BindConfiguration(RetryOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RetryOptions>, RetryOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConsensusMetrics>();
        services.TryAddSingleton<RetryTelemetry>();
        services.TryAddSingleton<StoragePipeline>();
        return services;
    }
}
