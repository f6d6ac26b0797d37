namespace ConsensusApi.Tests.Infrastructure;

/// <summary>Locations in the source tree, found from the test binary upwards.</summary>
public static class Repository
{
    /// <summary>The folder holding ConsensusApi.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>True on CI, where every optional prerequisite must be present.</summary>
    public static bool OnCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ConsensusApi.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("ConsensusApi.sln was not found above " + AppContext.BaseDirectory);
    }
}
