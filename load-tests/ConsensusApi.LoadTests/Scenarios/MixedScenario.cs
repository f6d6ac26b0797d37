using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>
/// The checklist's "100 concurrent operations": writes, reads, run upserts and syntheses at once,
/// on ten specs shared by the virtual users, so reads meet concurrent writes. Each iteration is
/// one operation, chosen by the user's position in a cycle of ten: 4 writes, 3 reads, 2 upserts,
/// 1 synthesis. After the load a sample of each kind of write is read back.
/// </summary>
internal sealed class MixedScenario : Scenario
{
    private const int PageLimit = 50;
    private const int TrackedRuns = 300;
    private const long UpsertOffset = 10_000_000_000;
    private const long SynthesisOffset = 20_000_000_000;

    private static readonly char[] Cycle = ['W', 'R', 'W', 'U', 'R', 'W', 'S', 'R', 'W', 'U'];

    private readonly Reservoir<(long Id, SentArtifact Sent)> _written = new(200);
    private readonly Reservoir<(long RunId, SentSynthesis Sent)> _syntheses = new(100);
    private readonly ConcurrentDictionary<long, SentRun> _upserted = new();

    public override string Name => "mixed";

    public override string Description => "per 10 operations: 4 artifact writes, 3 stage reads, 2 run upserts, 1 synthesis, over 10 shared specs; samples read back";

    public override double DefaultRate => 300;

    public override Task<StepResult> StepAsync(VirtualUser user, CancellationToken cancellationToken)
    {
        var specId = $"LT-M-{Context.Prefix}-{user.Id % 10}";
        var stage = Artifacts.Stages[user.Id % Artifacts.Stages.Length];
        return Cycle[(int)((user.Id + user.Iteration) % Cycle.Length)] switch
        {
            'W' => WriteAsync(user, specId, stage, cancellationToken),
            'R' => ReadAsync(user, specId, stage, cancellationToken),
            'U' => UpsertAsync(user, specId, stage, cancellationToken),
            _ => SynthesizeAsync(user, specId, stage, cancellationToken),
        };
    }

    public override async Task VerifyAsync(CancellationToken cancellationToken)
    {
        await WriteScenario.ReadBackAsync(Context, _written.Items, cancellationToken);
        foreach (var (runId, sent) in _upserted)
        {
            using var run = await ReadRunAsync(runId, cancellationToken);
            var problem = run is null ? "not found" : Runs.Mismatch(run.RootElement, sent, runId);
            Context.Stats.RecordIntegrity(problem is null, $"read-back of upserted run {runId}: {problem}");
        }

        foreach (var (runId, sent) in _syntheses.Items)
        {
            using var run = await ReadRunAsync(runId, cancellationToken);
            var problem = run is null ? "not found" : Runs.StoredSynthesisMismatch(run.RootElement, sent);
            Context.Stats.RecordIntegrity(problem is null, $"read-back of synthesized run {runId}: {problem}");
        }
    }

    private Task<StepResult> WriteAsync(VirtualUser user, string specId, string stage, CancellationToken cancellationToken)
    {
        var sent = new SentArtifact(
            specId,
            stage,
            string.Create(CultureInfo.InvariantCulture, $"lt-{Context.Prefix}-{user.Id}-{user.Iteration}"),
            Context.BaseTimestamp + (user.Id * 1000L) + (user.Iteration / 3 % 1000),
            Artifacts.Content(user.Id, user.Iteration, "mixed"));
        return WriteScenario.PostAsync(user, sent, _written, cancellationToken);
    }

    private static async Task<StepResult> ReadAsync(VirtualUser user, string specId, string stage, CancellationToken cancellationToken)
    {
        var response = await user.Client.GetAsync($"/api/v1/specs/{specId}/stages/{stage}/artifacts?limit={PageLimit}", cancellationToken);
        if (!response.Success)
        {
            return StepResult.HttpError;
        }

        using var document = JsonDocument.Parse(response.Body);
        var problem = Artifacts.PageMismatch(document.RootElement, specId, stage, PageLimit);
        return problem is null ? StepResult.Passed : StepResult.Integrity($"list {specId}/{stage}: {problem}");
    }

    private async Task<StepResult> UpsertAsync(VirtualUser user, string specId, string stage, CancellationToken cancellationToken)
    {
        // Three runs per user, visited in turn: the first visit inserts (201), later ones update (200).
        var sent = new SentRun(
            specId,
            stage,
            Context.BaseTimestamp + UpsertOffset + (user.Id * 10L) + (user.Iteration / Cycle.Length % 3),
            ConsensusOk: user.Iteration % 2 == 0,
            Degraded: user.Iteration % 3 == 0,
            string.Create(CultureInfo.InvariantCulture, $$"""{"user":{{user.Id}},"iteration":{{user.Iteration}},"note":"upsert"}"""));
        var response = await user.Client.PutAsync(Runs.Path, Runs.Body(sent), 201, 200, cancellationToken);
        if (!response.Success)
        {
            return StepResult.HttpError;
        }

        using var document = JsonDocument.Parse(response.Body);
        var problem = Runs.Mismatch(document.RootElement, sent);
        if (problem is not null)
        {
            return StepResult.Integrity($"PUT run echo: {problem}");
        }

        var id = document.RootElement.Number("id")!.Value;
        if (_upserted.ContainsKey(id) || _upserted.Count < TrackedRuns)
        {
            // Only this user writes this run, one request at a time, so the last upsert sent is what is stored.
            _upserted[id] = sent;
        }

        return StepResult.Passed;
    }

    private async Task<StepResult> SynthesizeAsync(VirtualUser user, string specId, string stage, CancellationToken cancellationToken)
    {
        var sent = new SentSynthesis(
            specId,
            stage,
            Context.BaseTimestamp + SynthesisOffset + (user.Id * 100_000L) + (user.Iteration % 100_000),
            string.Create(CultureInfo.InvariantCulture, $"# Synthesis {Context.Prefix} {user.Id}/{user.Iteration}\n\n1. {Artifacts.Filler}"),
            ArtifactsCount: 3,
            ConsensusOk: true,
            Degraded: false);
        var response = await user.Client.PostAsync(Runs.SynthesisPath, Runs.Body(sent), 201, cancellationToken);
        if (!response.Success)
        {
            return StepResult.HttpError;
        }

        using var document = JsonDocument.Parse(response.Body);
        var problem = Runs.Mismatch(document.RootElement, sent);
        if (problem is not null)
        {
            return StepResult.Integrity($"POST synthesis echo: {problem}");
        }

        _syntheses.Offer((document.RootElement.Number("runId")!.Value, sent));
        return StepResult.Passed;
    }

    private async Task<JsonDocument?> ReadRunAsync(long runId, CancellationToken cancellationToken)
    {
        var response = await Context.Reader.GetAsync(string.Create(CultureInfo.InvariantCulture, $"{Runs.Path}/{runId}"), cancellationToken);
        return response.Success ? JsonDocument.Parse(response.Body) : null;
    }
}
