using System.Diagnostics;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.OpenApi;

/// <summary>The served OpenAPI document passes a standard linter (Redocly CLI, recommended rules) with no errors.</summary>
public class OpenApiLintTests
{
    [Fact]
    public async Task ServedDocumentPassesRedoclyLintWithNoErrors()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient();
        var document = await client.GetStringAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative), ct);
        var file = Path.Combine(factory.Folder, "swagger.json");
        await File.WriteAllTextAsync(file, document, ct);

        var lintFolder = Path.Combine(Repository.Root, "tools", "openapi-lint");
        var redocly = Path.Combine(lintFolder, "node_modules", ".bin", "redocly");
        if (!File.Exists(redocly))
        {
            var install = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], lintFolder, ct);
            Assert.True(install.ExitCode == 0, "npm ci in tools/openapi-lint failed:\n" + install.Output);
        }

        var lint = await RunAsync(redocly, ["lint", file, "--config", Path.Combine(lintFolder, "redocly.yaml"), "--format=stylish"], lintFolder, ct);

        Assert.True(lint.ExitCode == 0, "redocly lint reported errors:\n" + lint.Output);
        Assert.Contains("valid", lint.Output, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string[] arguments, string workingDirectory, CancellationToken ct)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromMinutes(3), ct);
        return (process.ExitCode, await stdout + await stderr);
    }
}
