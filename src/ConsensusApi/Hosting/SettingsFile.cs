using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace ConsensusApi.Hosting;

/// <summary>Where the service's settings come from.</summary>
internal static class SettingsFile
{
    /// <summary>
    /// The host's arguments with the framework's <c>hostBuilder:reloadConfigOnChange</c> set to
    /// false, first, so the caller's own arguments still win. The settings are read once (below),
    /// but the default builder loads its <c>appsettings*.json</c> sources before they are
    /// replaced, and with reloading on it watches the content root: an inotify watch on every
    /// folder under it. A database kept there (the default <c>data/</c> under the working
    /// directory) then wakes the watcher thread on every write to its WAL, which cost a quarter
    /// to a third of the write rate under load.
    /// </summary>
    public static string[] WithoutReloadOnChange(string[] args) => ["--hostBuilder:reloadConfigOnChange=false", .. args];

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
