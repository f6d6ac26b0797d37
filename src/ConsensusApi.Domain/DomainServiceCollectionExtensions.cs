using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Telemetry;
using ConsensusApi.Domain.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain;

/// <summary>Registers the Domain: options, storage engine, resilience, maintenance.</summary>
public static class DomainServiceCollectionExtensions
{
    /// <summary>
    /// Adds every Domain service as a singleton and binds <c>Database</c>, <c>Retry</c>,
    /// <c>Vacuum</c>, <c>Backup</c> and <c>Limits</c> from configuration, validated at start-up
    /// with messages that name the key. Needs an <see cref="System.Diagnostics.Metrics.IMeterFactory"/>.
    /// The database is opened by calling <see cref="ConsensusDatabase.OpenAsync"/> once.
    /// </summary>
    public static IServiceCollection AddConsensusDomain(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddValidatedOptions<DatabaseOptions>(services, DatabaseOptions.SectionName);
        AddValidatedOptions<VacuumOptions>(services, VacuumOptions.SectionName);
        AddValidatedOptions<BackupOptions>(services, BackupOptions.SectionName);
        AddValidatedOptions<LimitsOptions>(services, LimitsOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VacuumOptions>, VacuumOptionsValidator>());
        services.AddConsensusResilience();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConsensusMetrics>();
        services.TryAddSingleton<ConsensusDatabase>();
        services.TryAddSingleton<StorageExecutor>();
        services.TryAddSingleton<DualWriteTelemetry>();
        services.TryAddSingleton<RequestValidator>();
        services.TryAddSingleton<ArtifactRepository>();
        services.TryAddSingleton<RunRepository>();
        services.TryAddSingleton<SynthesisRepository>();
        services.TryAddSingleton<SpecRepository>();
        services.TryAddSingleton<StorageInspector>();
        services.TryAddSingleton<VacuumService>();
        services.TryAddSingleton<VacuumScheduler>();
        services.TryAddSingleton<BackupService>();
        return services;
    }

    private static void AddValidatedOptions<TOptions>(IServiceCollection services, string section)
        where TOptions : class =>
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
}
