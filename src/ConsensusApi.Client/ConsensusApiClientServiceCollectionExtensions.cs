using ConsensusApi.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="ConsensusApiClient"/> with <c>IHttpClientFactory</c>.</summary>
public static class ConsensusApiClientServiceCollectionExtensions
{
    /// <summary>The name of the resilience handler in the client's handler chain.</summary>
    public const string ResilienceHandlerName = "consensus-api";

    /// <summary>
    /// Adds <see cref="ConsensusApiClient"/> as a typed HttpClient. Options come from the
    /// <c>ConsensusApiClient</c> configuration section when an <see cref="IConfiguration"/> is
    /// registered, then from <paramref name="configure"/>. The handler chain retries transient
    /// failures as <see cref="ConsensusApiClientOptions.Retry"/> says, each attempt bounded by
    /// <see cref="ConsensusApiClientOptions.AttemptTimeout"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, after configuration.</param>
    /// <returns>The HttpClient builder, to add handlers nearer the network (they run once per attempt).</returns>
    public static IHttpClientBuilder AddConsensusApiClient(this IServiceCollection services, Action<ConsensusApiClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ConsensusApiClientOptions>()
            .Configure<IServiceProvider>((client, provider) =>
                provider.GetService<IConfiguration>()?.GetSection(ConsensusApiClientOptions.SectionName).Bind(client));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsensusApiClientOptions>, ConsensusApiClientOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new ConsensusApiClientTelemetry(provider.GetService<System.Diagnostics.Metrics.IMeterFactory>()));

        var builder = services.AddHttpClient<ConsensusApiClient>((provider, http) =>
        {
            var settings = provider.GetRequiredService<IOptions<ConsensusApiClientOptions>>().Value;
            http.BaseAddress = WithTrailingSlash(settings.BaseAddress!);
            http.Timeout = settings.Timeout;
            if (settings.ApiKey is { } key)
            {
                http.DefaultRequestHeaders.Add("X-Api-Key", key);
            }
        });
        builder.AddResilienceHandler(ResilienceHandlerName, (pipeline, context) =>
        {
            var provider = context.ServiceProvider;
            new ClientRetryStrategy(
                provider.GetRequiredService<IOptions<ConsensusApiClientOptions>>().Value,
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ConsensusApiClientTelemetry>(),
                provider.GetRequiredService<ILoggerFactory>().CreateLogger<ConsensusApiClient>())
                .Configure(pipeline);
        });
        return builder;
    }

    // Relative request paths resolve below the base address only when it ends with a slash.
    private static Uri WithTrailingSlash(Uri address) =>
        address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
}
