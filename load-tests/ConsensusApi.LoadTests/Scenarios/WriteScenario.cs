using System.Globalization;
using System.Text.Json;
using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>
/// POST one artifact with a unique agent name and content. The 201 body must echo what was sent
/// and <c>Location</c> must name it; after the load a random sample is read back by id.
/// </summary>
internal sealed class WriteScenario : Scenario
{
    private readonly Reservoir<(long Id, SentArtifact Sent)> _written = new(300);

    public override string Name => "write";

    public override string Description => "POST /api/v1/artifacts with unique agent and content; echo checked, a sample read back by id";

    public override async Task<StepResult> StepAsync(VirtualUser user, CancellationToken cancellationToken)
    {
        var sent = new SentArtifact(
            $"LT-W-{Context.Prefix}-{user.Id}",
            Artifacts.Stages[user.Iteration / 3 % Artifacts.Stages.Length],
            string.Create(CultureInfo.InvariantCulture, $"lt-{Context.Prefix}-{user.Id}-{user.Iteration}"),
            Context.BaseTimestamp + (user.Iteration / 3),
            Artifacts.Content(user.Id, user.Iteration, "write"),
            "load-test-1");
        return await PostAsync(user, sent, _written, cancellationToken);
    }

    public override Task VerifyAsync(CancellationToken cancellationToken) => ReadBackAsync(Context, _written.Items, cancellationToken);

    /// <summary>Posts <paramref name="sent"/>, checks the echo and offers it to the read-back sample.</summary>
    public static async Task<StepResult> PostAsync(
        VirtualUser user, SentArtifact sent, Reservoir<(long Id, SentArtifact Sent)> written, CancellationToken cancellationToken)
    {
        var response = await user.Client.PostAsync(Artifacts.Path, Artifacts.Body(sent), 201, cancellationToken);
        if (!response.Success)
        {
            return StepResult.HttpError;
        }

        using var document = JsonDocument.Parse(response.Body);
        var problem = Artifacts.Mismatch(document.RootElement, sent);
        if (problem is not null)
        {
            return StepResult.Integrity($"POST echo: {problem}");
        }

        var id = document.RootElement.Number("id")!.Value;
        if (response.Location?.OriginalString != string.Create(CultureInfo.InvariantCulture, $"{Artifacts.Path}/{id}"))
        {
            return StepResult.Integrity($"artifact {id} was created with Location {response.Location}");
        }

        written.Offer((id, sent));
        return StepResult.Passed;
    }

    /// <summary>Reads each sampled artifact back by id and records whether it holds what was sent.</summary>
    public static async Task ReadBackAsync(ScenarioContext context, IReadOnlyList<(long Id, SentArtifact Sent)> sample, CancellationToken cancellationToken)
    {
        foreach (var (id, sent) in sample)
        {
            var response = await context.Reader.GetAsync(string.Create(CultureInfo.InvariantCulture, $"{Artifacts.Path}/{id}"), cancellationToken);
            if (!response.Success)
            {
                context.Stats.RecordIntegrity(false, $"read-back of artifact {id} answered {response.Status}");
                continue;
            }

            using var document = JsonDocument.Parse(response.Body);
            var problem = Artifacts.Mismatch(document.RootElement, sent, id);
            context.Stats.RecordIntegrity(problem is null, $"read-back: {problem}");
        }
    }
}
