using ConsensusApi.Tests.Infrastructure;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace ConsensusApi.Tests.OpenApi;

/// <summary>
/// The served OpenAPI document reads back without errors through Microsoft.OpenApi (the reader
/// .NET's generators use) and passes its validation rules, and it has what client generators
/// need: a unique operationId and a tag on every operation, and a schema for every JSON body.
/// </summary>
public sealed class OpenApiDocumentValidationTests
{
    private static async Task<(OpenApiDocument Document, OpenApiDiagnostic Diagnostic)> ReadServedDocumentAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient();
        var json = await client.GetStringAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative), ct);
        var result = OpenApiDocument.Parse(json, OpenApiConstants.Json, new OpenApiReaderSettings { RuleSet = ValidationRuleSet.GetDefaultRuleSet() });
        Assert.NotNull(result.Document);
        Assert.NotNull(result.Diagnostic);
        return (result.Document, result.Diagnostic);
    }

    [Fact]
    public async Task ServedDocumentReadsAndValidatesWithoutErrors()
    {
        var (document, diagnostic) = await ReadServedDocumentAsync();

        Assert.Empty(diagnostic.Errors.Select(error => $"{error.Pointer}: {error.Message}"));
        Assert.Empty(document.Validate(ValidationRuleSet.GetDefaultRuleSet())!.Select(error => $"{error.Pointer}: {error.Message}"));
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, diagnostic.SpecificationVersion);
    }

    [Fact]
    public async Task EveryOperationHasWhatAClientGeneratorNeeds()
    {
        var (document, _) = await ReadServedDocumentAsync();
        var operations = document.Paths
            .SelectMany(path => path.Value.Operations!.Select(operation => (Name: $"{operation.Key} {path.Key}", Operation: operation.Value)))
            .ToList();

        // Every operation of the contract: 4 artifact, 4 run, 2 synthesis, 3 spec, 6 admin and 2 health operations.
        Assert.Equal(21, operations.Count);
        var ids = operations.Select(o => o.Operation.OperationId).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(operations, o => Assert.True(o.Operation.Tags is { Count: > 0 }, o.Name + " has no tag"));
        foreach (var (name, operation) in operations)
        {
            foreach (var (status, response) in operation.Responses!)
            {
                foreach (var (mediaType, content) in response.Content ?? new Dictionary<string, OpenApiMediaType>())
                {
                    Assert.True(content.Schema is not null, $"{name} {status} {mediaType} has no schema");
                }

                if (status.StartsWith('2'))
                {
                    Assert.True(response.Content is { Count: > 0 }, $"{name} {status} describes no body");
                }
            }

            if (operation.RequestBody is { } body)
            {
                Assert.True(body.Content!.ContainsKey("application/json"), $"{name} takes no JSON body");
                Assert.NotNull(body.Content["application/json"].Schema);
            }
        }
    }
}
