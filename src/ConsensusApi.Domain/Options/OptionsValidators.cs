using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Options;

/// <summary>Cross-field rules of <see cref="DatabaseOptions"/>; messages name the key.</summary>
public sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MinIdle > options.PoolSize)
        {
            return ValidateOptionsResult.Fail("Database:MinIdle must be <= Database:PoolSize.");
        }

        // The write lane and the checkpointer hold one pooled connection each; reads need the rest.
        return options.WalRestartFrames > 0 && options.PoolSize < 3
            ? ValidateOptionsResult.Fail("Database:PoolSize must be at least 3 when Database:WalRestartFrames is above 0 (the write lane and the checkpointer hold one connection each); set Database:WalRestartFrames to 0 for a smaller pool.")
            : ValidateOptionsResult.Success;
    }
}

/// <summary>Rules of <see cref="VacuumOptions"/> that attributes cannot state.</summary>
public sealed class VacuumOptionsValidator : IValidateOptions<VacuumOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, VacuumOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Interval < TimeSpan.FromSeconds(1) || options.Interval > TimeSpan.FromDays(365)
            ? ValidateOptionsResult.Fail("Vacuum:Interval must be between 00:00:01 and 365.00:00:00.")
            : ValidateOptionsResult.Success;
    }
}
