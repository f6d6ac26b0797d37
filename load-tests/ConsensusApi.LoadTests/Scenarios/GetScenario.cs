using System.Globalization;
using System.Text.Json;
using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>One seeded artifact by id, chosen at random; the body must hold that artifact's seeded content.</summary>
internal sealed class GetScenario : Scenario
{
    private SeedData _seed = null!;

    public override string Name => "get";

    public override string Description => "GET /api/v1/artifacts/{id} of a random seeded artifact; id and content checked";

    public override double DefaultRate => 1000;

    protected override Task PrepareAsync(CancellationToken cancellationToken)
    {
        _seed = Context.Seed ?? throw new InvalidOperationException("The get scenario needs seeded artifacts.");
        return Task.CompletedTask;
    }

    public override async Task<StepResult> StepAsync(VirtualUser user, CancellationToken cancellationToken)
    {
        var id = _seed.Ids[user.Random.Next(_seed.Ids.Count)];
        var response = await user.Client.GetAsync(string.Create(CultureInfo.InvariantCulture, $"{Artifacts.Path}/{id}"), cancellationToken);
        if (!response.Success)
        {
            return StepResult.HttpError;
        }

        using var document = JsonDocument.Parse(response.Body);
        var artifact = document.RootElement;
        if (artifact.Number("id") != id || artifact.Text("specId") != _seed.SpecId || artifact.Text("stage") != _seed.Stage)
        {
            return StepResult.Integrity($"GET artifact {id} returned {artifact.Number("id")} of {artifact.Text("specId")}/{artifact.Text("stage")}");
        }

        return JsonElement.DeepEquals(artifact.Property("content"), _seed.Contents[id])
            ? StepResult.Passed
            : StepResult.Integrity($"artifact {id} content {Artifacts.Shorten(artifact.Property("content"))} is not what was seeded");
    }
}
