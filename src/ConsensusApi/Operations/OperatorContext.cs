using ConsensusApi.Domain;
using ConsensusApi.Domain.Options;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Operations;

/// <summary>
/// The Domain wired for one operator command, without the HTTP server: the service's configuration
/// sources (<c>appsettings.json</c> beside the binary, <c>appsettings.{Environment}.json</c>, the
/// environment) and <c>--db</c> on top. Logs go to standard error; the command's own output to
/// standard output.
/// </summary>
internal sealed class OperatorContext : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private OperatorContext(ServiceProvider services, TextWriter output)
    {
        _services = services;
        Output = output;
        DatabaseOptions = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        DatabasePath = Path.GetFullPath(DatabaseOptions.Path);
    }

    /// <summary>Where the command prints.</summary>
    public TextWriter Output { get; }

    /// <summary>The database settings in force.</summary>
    public DatabaseOptions DatabaseOptions { get; }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Builds the context; invalid settings throw, naming the key.</summary>
    /// <param name="databasePath"><c>--db</c>, overriding <c>Database:Path</c>.</param>
    /// <param name="logLevel">The least severe log entry shown on standard error.</param>
    /// <param name="output">Where the command prints.</param>
    public static OperatorContext Create(string? databasePath, LogLevel logLevel, TextWriter output)
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? Environments.Production;
        var beside = new PhysicalFileProvider(AppContext.BaseDirectory);
        var builder = new ConfigurationBuilder()
            .AddJsonFile(beside, "appsettings.json", optional: true, reloadOnChange: false)
            .AddJsonFile(beside, $"appsettings.{environment}.json", optional: true, reloadOnChange: false)
            .AddEnvironmentVariables();
        if (databasePath is not null)
        {
            builder.AddInMemoryCollection([new KeyValuePair<string, string?>("Database:Path", databasePath)]);
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(builder.Build());
        services.AddLogging(logging => logging
            .SetMinimumLevel(logLevel)
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.IncludeScopes = false;
            }));
        services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        services.AddMetrics();
        services.AddConsensusDomain();
        var provider = services.BuildServiceProvider();
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            return new OperatorContext(provider, output);
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>A Domain service.</summary>
    public T Get<T>()
        where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Fails unless the file exists.</summary>
    public void RequireFile()
    {
        if (!File.Exists(DatabasePath))
        {
            throw new OperatorException($"There is no database at '{DatabasePath}'. Set Database:Path (appsettings.json or Database__Path) or pass --db PATH.");
        }
    }

    /// <summary>Fails unless the file exists and its schema is the latest: only <c>migrate</c> changes a schema.</summary>
    public void RequireCurrentSchema()
    {
        RequireFile();
        var plan = Domain.Maintenance.DatabaseFile.PlanMigration(DatabasePath);
        if (plan.Pending.Count > 0)
        {
            throw new OperatorException(
                $"'{DatabasePath}' has schema version {plan.SchemaVersion}, not the latest ({plan.LatestVersion}); run migrate first (it writes a backup before changing anything).");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _services.DisposeAsync();
}

/// <summary>A command cannot do its work; the message says why, for the operator.</summary>
internal sealed class OperatorException(string message) : Exception(message);
