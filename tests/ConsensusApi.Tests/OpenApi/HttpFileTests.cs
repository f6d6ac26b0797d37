using System.Text.Json;
using System.Text.RegularExpressions;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.OpenApi;

/// <summary>The operators' .http file has a request for every operation the OpenAPI document describes.</summary>
public partial class HttpFileTests
{
    [Fact]
    public async Task SampleRequestsCoverEveryDescribedOperation()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative), ct));
        var described = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name.ToUpperInvariant()} {Normalize(path.Name)}"))
            .ToHashSet(StringComparer.Ordinal);

        var samples = RequestLine().Matches(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "src", "ConsensusApi", "ConsensusApi.http"), ct))
            .Select(match => $"{match.Groups["method"].Value} {Normalize(match.Groups["path"].Value)}")
            .ToHashSet(StringComparer.Ordinal);

        Assert.Empty(described.Except(samples));
    }

    /// <summary>Path parameters, .http variables and literal ids all become <c>*</c>; queries are dropped.</summary>
    private static string Normalize(string path) =>
        string.Join('/', path.Split('?')[0].Split('/').Select(segment =>
            segment.StartsWith('{') || segment.All(char.IsAsciiDigit) && segment.Length > 0 ? "*" : segment));

    [GeneratedRegex(@"^(?<method>GET|POST|PUT|DELETE|PATCH) \{\{base\}\}(?<path>\S+)", RegexOptions.Multiline)]
    private static partial Regex RequestLine();
}
