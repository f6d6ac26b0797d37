using System.Text.Json;
using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>
/// The newest 50 artifacts of the seeded spec and stage. Before the load the page is checked
/// against the seed (the newest 50 ids, newest first, each with its content); under load every
/// page must be byte for byte that page, since nothing writes to the seeded stage.
/// </summary>
internal sealed class ReadScenario : Scenario
{
    private const int Limit = 50;

    private string _path = "";
    private byte[] _expected = [];

    public override string Name => "read";

    public override string Description => "GET newest 50 artifacts of the seeded spec/stage; each page compared with the seeded page";

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var seed = Context.Seed ?? throw new InvalidOperationException("The read scenario needs seeded artifacts.");
        _path = $"/api/v1/specs/{seed.SpecId}/stages/{seed.Stage}/artifacts?limit={Limit}";
        var response = await Context.Reader.GetAsync(_path, cancellationToken);
        if (!response.Success)
        {
            throw new InvalidOperationException($"Reading the seeded page answered {response.Status}.");
        }

        using var document = JsonDocument.Parse(response.Body);
        var expectedIds = seed.Ids.OrderDescending().Take(Limit).ToList();
        var items = document.RootElement.Property("items");
        var ids = items.ValueKind == JsonValueKind.Array ? items.EnumerateArray().Select(item => item.Number("id") ?? 0).ToList() : [];
        var problem = Artifacts.PageMismatch(document.RootElement, seed.SpecId, seed.Stage, Limit)
            ?? (ids.SequenceEqual(expectedIds) ? null : $"the page lists ids {string.Join(',', ids.Take(5))}..., expected {string.Join(',', expectedIds.Take(5))}...")
            ?? items.EnumerateArray()
                .Where(item => !JsonElement.DeepEquals(item.Property("content"), seed.Contents[item.Number("id") ?? 0]))
                .Select(item => $"seeded artifact {item.Number("id")} reads back with other content")
                .FirstOrDefault();
        Context.Stats.RecordIntegrity(problem is null, problem);
        _expected = response.Body;
    }

    public override async Task<StepResult> StepAsync(VirtualUser user, CancellationToken cancellationToken)
    {
        var response = await user.Client.GetAsync(_path, cancellationToken);
        if (!response.Success)
        {
            return StepResult.HttpError;
        }

        return response.Body.AsSpan().SequenceEqual(_expected)
            ? StepResult.Passed
            : StepResult.Integrity($"the seeded page came back different ({response.Body.Length} bytes, expected {_expected.Length})");
    }
}
