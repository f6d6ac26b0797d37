using System.Net;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Auth;

/// <summary>The service refused to start; the message says why and how to fix it.</summary>
internal sealed class StartupRefusedException(string message) : Exception(message);

/// <summary>
/// Refuses to start an open service (no API keys) on anything but a loopback address, judged
/// before the server binds from the addresses configured through <c>--urls</c>,
/// <c>ASPNETCORE_URLS</c>, <c>HTTP_PORTS</c> or <c>Kestrel:Endpoints</c>. Runs as the first
/// hosted service, and earlier still from <c>Program</c>.
/// </summary>
internal sealed class LoopbackGuard(IConfiguration configuration, IOptions<AuthOptions> auth) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <exception cref="StartupRefusedException">Open mode on a non-loopback address.</exception>
    public void Check()
    {
        if (!auth.Value.IsOpen)
        {
            return;
        }

        var exposed = ConfiguredUrls(configuration).Where(url => !IsLoopback(url)).ToList();
        if (exposed.Count > 0)
        {
            throw new StartupRefusedException(
                $"no API keys are configured (Auth:ApiKeys), so the service runs open and listens only on loopback, " +
                $"but it was asked to listen on {string.Join(", ", exposed)}. Configure Auth:ApiKeys, or listen on 127.0.0.1 (--urls http://127.0.0.1:5000).");
        }
    }

    internal static IEnumerable<string> ConfiguredUrls(IConfiguration configuration)
    {
        foreach (var key in new[] { "urls", "ASPNETCORE_URLS" })
        {
            foreach (var url in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return url;
            }
        }

        foreach (var key in new[] { "http_ports", "https_ports", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS" })
        {
            foreach (var port in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return $"http://*:{port}";
            }
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                yield return url;
            }
        }
    }

    internal static bool IsLoopback(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var rest = schemeEnd >= 0 ? url[(schemeEnd + 3)..] : url;
        var hostEnd = rest.StartsWith('[') ? rest.IndexOf(']', StringComparison.Ordinal) + 1 : rest.IndexOfAny([':', '/']);
        var host = hostEnd > 0 ? rest[..hostEnd] : rest;
        host = host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }
}
