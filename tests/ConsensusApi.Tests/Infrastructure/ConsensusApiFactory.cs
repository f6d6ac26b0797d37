using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>
/// The real host on a test server, with its own temporary folder holding a fresh database file
/// (WAL needs a real file) and the backup folder. Optionally configures one API key per role
/// (<see cref="WithKeys"/>) and any extra settings; the folder is deleted on dispose.
/// </summary>
public sealed class ConsensusApiFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly ConcurrentQueue<HostLogEntry> _logs = new();
    private bool _startRefused;

    /// <summary>Creates an open host (no API keys) with <paramref name="settings"/> on top of the defaults.</summary>
    public ConsensusApiFactory(IDictionary<string, string?>? settings = null)
        : this(withKeys: false, settings)
    {
    }

    private ConsensusApiFactory(bool withKeys, IDictionary<string, string?>? settings)
    {
        Folder = Path.Combine(Path.GetTempPath(), "consensus-http-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        _settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Database:Path"] = DatabasePath,
            ["Backup:Folder"] = BackupFolder,
            // The scheduler must not vacuum in the middle of a test.
            ["Vacuum:Interval"] = "1.00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        if (withKeys)
        {
            var index = 0;
            foreach (var (role, key) in TestKeys.ByRole)
            {
                _settings[$"Auth:ApiKeys:{index}:Name"] = $"test-{role}";
                _settings[$"Auth:ApiKeys:{index}:Key"] = key;
                _settings[$"Auth:ApiKeys:{index}:Role"] = role;
                index++;
            }
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    /// <summary>A host with one API key per role (<see cref="TestKeys"/>) and <paramref name="settings"/>.</summary>
    public static ConsensusApiFactory WithKeys(IDictionary<string, string?>? settings = null) => new(withKeys: true, settings);

    /// <summary>The temporary folder of this instance.</summary>
    public string Folder { get; }

    /// <summary>The database file.</summary>
    public string DatabasePath => Path.Combine(Folder, "consensus.db");

    /// <summary>Where admin backups go.</summary>
    public string BackupFolder => Path.Combine(Folder, "backups");

    /// <summary>
    /// What the host logged (at the levels <c>Logging:LogLevel</c> lets through, Warning by default).
    /// The host logs here instead of the console.
    /// </summary>
    public IReadOnlyList<HostLogEntry> Logs => [.. _logs];

    /// <summary>
    /// Starts the host expecting it to refuse, and returns why. The entry point reports a refused
    /// start on standard error and exits, so the test server sees a disposed or never-started
    /// host rather than the cause. The cause is the exception the host logged as it failed to
    /// start; when the entry point stopped before starting the host (options are also validated
    /// while the pipeline is built), it is what the host's start-up validation throws.
    /// </summary>
    public Exception StartupFailure()
    {
        _startRefused = true;
        Exception? thrown = null;
        try
        {
            _ = Server;
        }
#pragma warning disable CA1031 // Whatever the test server throws, the logged cause is the answer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            thrown = ex;
        }

        var logged = _logs.FirstOrDefault(entry => entry.Exception is not null && entry.Message.Contains("failed to start", StringComparison.OrdinalIgnoreCase));
        if (logged is not null)
        {
            return logged.Exception!;
        }

        if (thrown is not null and not ObjectDisposedException)
        {
            return thrown;
        }

        try
        {
            Services.GetRequiredService<IStartupValidator>().Validate();
        }
#pragma warning disable CA1031 // The validation failure is the answer, whatever its type.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }

        throw new InvalidOperationException("The host started. Thrown: " + thrown, thrown);
    }

    /// <summary>
    /// A client sending the API key of <paramref name="role"/> (<c>reader</c>, <c>writer</c>,
    /// <c>admin</c>) in <c>X-Api-Key</c>; <see cref="TestKeys.Anonymous"/> (null) sends none.
    /// </summary>
    public HttpClient CreateClient(string? role) =>
        CreateClientWithKey(role is null ? null : TestKeys.For(role));

    /// <summary>A client sending <paramref name="key"/> as it is in <c>X-Api-Key</c> (null sends no header).</summary>
    public HttpClient CreateClientWithKey(string? key) =>
        key is null ? CreateDefaultClient() : CreateDefaultClient(new ApiKeyHandler(key));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Added last, so these win over appsettings.json beside the binary and the environment.
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new CapturingLoggerProvider(_logs));
        });
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        catch (Exception) when (_startRefused)
        {
            // A host that never started cannot be stopped cleanly; there is nothing to stop.
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open elsewhere: the OS temp folder is cleaned eventually.
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<HostLogEntry> entries) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<HostLogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new HostLogEntry(category, logLevel, eventId, formatter(state, exception), exception));
        }
    }

    private sealed class ApiKeyHandler(string key) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove("X-Api-Key");
            request.Headers.TryAddWithoutValidation("X-Api-Key", key);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>One entry the host logged.</summary>
public sealed record HostLogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>The plain API keys <see cref="ConsensusApiFactory.WithKeys"/> configures, one per role.</summary>
public static class TestKeys
{
    public const string? Anonymous = null;
    public const string Reader = "reader";
    public const string Writer = "writer";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<(string Role, string Key)> ByRole =
    [
        (Reader, "reader-key-5f0c1d"),
        (Writer, "writer-key-9a7e42"),
        (Admin, "admin-key-3b66c8"),
    ];

    /// <summary>The plain key of <paramref name="role"/>.</summary>
    public static string For(string role) => ByRole.Single(entry => entry.Role == role).Key;

    /// <summary><c>sha256:&lt;hex&gt;</c> of <paramref name="key"/>, as a key can be configured without its plain text.</summary>
    public static string Sha256Of(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
