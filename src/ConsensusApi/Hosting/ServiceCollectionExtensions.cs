using System.Text.Json;
using System.Text.Json.Serialization;
using ConsensusApi.Auth;
using ConsensusApi.Endpoints;
using ConsensusApi.Errors;
using ConsensusApi.OpenApi;
using ConsensusApi.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Hosting;

/// <summary>The HTTP host's services.</summary>
internal static class ServiceCollectionExtensions
{
    public static IServiceCollection AddConsensusApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(options =>
        {
            var json = options.SerializerOptions;
            json.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            json.NumberHandling = JsonNumberHandling.Strict;
            json.Converters.Add(new UtcTimestampConverter());
            json.Converters.Add(new Utf8JsonElementConverter());
            json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        });
        // Binding failures (bad JSON, wrong types, missing body) throw, so DomainExceptionHandler answers them as problem details.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemDetailsDefaults.Complete);
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddExceptionHandler<DomainExceptionHandler>();
        services.AddConsensusRequestTimeouts();
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<Domain.Options.LimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);

        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.Policies.Read, policy => policy.RequireRole(Roles.Reader, Roles.Writer, Roles.Admin))
            .AddPolicy(Roles.Policies.Write, policy => policy.RequireRole(Roles.Writer, Roles.Admin))
            .AddPolicy(Roles.Policies.Administer, policy => policy.RequireRole(Roles.Admin));

        services.AddSingleton<IdempotencyKeys>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [HealthEndpoints.ReadyTag]);
        services.AddConsensusOpenApi();
        services.AddSingleton<StorageGauges>();

        // Start order: refuse an open service on a public address, open the database, then the schedule.
        services.AddHostedService<LoopbackGuard>();
        services.AddHostedService<DatabaseLifetime>();
        services.AddHostedService<VacuumBackgroundService>();
        return services;
    }
}
