using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace ConsensusApi.Hosting;

/// <summary>Where the service's settings come from.</summary>
internal static class SettingsFile
{
    /// <summary>
    /// Reads <c>appsettings*.json</c> from beside the binary rather than from the content root,
    /// which differs between <c>dotnet run</c>, the published folder, a service manager and the
    /// test host. Their place in the source order is kept, so the environment and the command
    /// line still override them.
    /// </summary>
    public static void ReadSettingsBesideBinary(this ConfigurationManager configuration)
    {
        var sources = configuration.Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is JsonConfigurationSource { Path: { } path } json && path.StartsWith("appsettings", StringComparison.OrdinalIgnoreCase))
            {
                sources[i] = new JsonConfigurationSource
                {
                    Path = path,
                    Optional = json.Optional,
                    ReloadOnChange = false,
                    FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
                };
            }
        }
    }
}
