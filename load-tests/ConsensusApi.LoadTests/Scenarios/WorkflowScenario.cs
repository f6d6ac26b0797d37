using System.Globalization;
using System.Text.Json;
using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>
/// One virtual user plays the terminal UI through the six stages of a spec's automatic pipeline:
/// per stage three agents post their outputs with one run timestamp (the first agent's, as the
/// service returned it) and a synthesis follows; then it reads every stage back (latest run with
/// its outputs, latest synthesis) and checks that it is exactly what it wrote.
/// </summary>
internal sealed class WorkflowScenario : Scenario
{
    private static readonly (string Name, string Model)[] Agents = [("gemini", "gemini-2.5-pro"), ("claude", "claude-sonnet-4"), ("gpt", "gpt-5")];

    public override string Name => "workflow";

    public override string Description =>
        "the terminal UI's six stages: per stage 3 agents post with one run timestamp, then a synthesis; then every stage read back and compared (36 requests)";

    public override double DefaultRate => 10;

    public override async Task<StepResult> StepAsync(VirtualUser user, CancellationToken cancellationToken)
    {
        var specId = string.Create(CultureInfo.InvariantCulture, $"LT-WF-{Context.Prefix}-{user.Id}-{user.Iteration}");
        var written = new List<(string Stage, long RunId, long RunTimestamp, List<SentArtifact> Outputs, SentSynthesis Synthesis)>();
        foreach (var stage in Artifacts.Stages)
        {
            long? runTimestamp = null;
            long runId = 0;
            var outputs = new List<SentArtifact>();
            foreach (var (agent, model) in Agents)
            {
                var sent = new SentArtifact(
                    specId, stage, agent, runTimestamp, Artifacts.Content(user.Id, user.Iteration, $"{stage}/{agent}"), model);
                var response = await user.Client.PostAsync(Artifacts.Path, Artifacts.Body(sent), 201, cancellationToken);
                if (!response.Success)
                {
                    return StepResult.HttpError;
                }

                using var document = JsonDocument.Parse(response.Body);
                var artifact = document.RootElement;
                if (Artifacts.Mismatch(artifact, sent) is { } problem)
                {
                    return StepResult.Integrity($"workflow {specId} {stage}: {problem}");
                }

                // Agents of one run send the run timestamp the service returned for the first agent.
                runTimestamp ??= artifact.Number("runTimestamp");
                var thisRun = artifact.Number("runId") ?? 0;
                if (runId != 0 && thisRun != runId)
                {
                    return StepResult.Integrity($"workflow {specId} {stage}: {agent} landed in run {thisRun}, the first agent in run {runId}");
                }

                runId = thisRun;
                outputs.Add(sent with { RunTimestamp = runTimestamp });
            }

            var synthesis = new SentSynthesis(
                specId,
                stage,
                runTimestamp!.Value,
                $"# {stage} of {specId}\n\nAgreed by {string.Join(", ", Agents.Select(a => a.Name))}.\n\n{Artifacts.Filler}",
                Agents.Length,
                ConsensusOk: true,
                Degraded: false);
            var posted = await user.Client.PostAsync(Runs.SynthesisPath, Runs.Body(synthesis), 201, cancellationToken);
            if (!posted.Success)
            {
                return StepResult.HttpError;
            }

            using (var document = JsonDocument.Parse(posted.Body))
            {
                var problem = Runs.Mismatch(document.RootElement, synthesis)
                    ?? (document.RootElement.Number("runId") == runId ? null : $"the synthesis went to run {document.RootElement.Number("runId")}, the outputs to {runId}");
                if (problem is not null)
                {
                    return StepResult.Integrity($"workflow {specId} {stage}: {problem}");
                }
            }

            written.Add((stage, runId, runTimestamp.Value, outputs, synthesis));
        }

        foreach (var (stage, runId, runTimestamp, outputs, synthesis) in written)
        {
            var result = await ReadBackAsync(user, specId, stage, runId, runTimestamp, outputs, synthesis, cancellationToken);
            if (result.Status != StepStatus.Passed)
            {
                return result;
            }
        }

        return StepResult.Passed;
    }

    private static async Task<StepResult> ReadBackAsync(
        VirtualUser user, string specId, string stage, long runId, long runTimestamp, List<SentArtifact> outputs, SentSynthesis synthesis, CancellationToken cancellationToken)
    {
        var latest = await user.Client.GetAsync($"/api/v1/specs/{specId}/stages/{stage}/runs/latest", cancellationToken);
        if (!latest.Success)
        {
            return StepResult.HttpError;
        }

        using (var document = JsonDocument.Parse(latest.Body))
        {
            var run = document.RootElement;
            var problem = run.Number("id") != runId || run.Number("runTimestamp") != runTimestamp
                ? $"latest run is {run.Number("id")} at {run.Number("runTimestamp")}, expected {runId} at {runTimestamp}"
                : Runs.StoredSynthesisMismatch(run, synthesis) ?? OutputsMismatch(run.Property("outputs"), outputs);
            if (problem is not null)
            {
                return StepResult.Integrity($"workflow {specId} {stage} read-back: {problem}");
            }
        }

        var latestSynthesis = await user.Client.GetAsync($"/api/v1/specs/{specId}/stages/{stage}/synthesis/latest", cancellationToken);
        if (!latestSynthesis.Success)
        {
            return StepResult.HttpError;
        }

        using (var document = JsonDocument.Parse(latestSynthesis.Body))
        {
            var problem = Runs.Mismatch(document.RootElement, synthesis)
                ?? (document.RootElement.Number("runId") == runId ? null : $"latest synthesis belongs to run {document.RootElement.Number("runId")}, expected {runId}");
            return problem is null ? StepResult.Passed : StepResult.Integrity($"workflow {specId} {stage} read-back: {problem}");
        }
    }

    private static string? OutputsMismatch(JsonElement outputs, List<SentArtifact> sent)
    {
        if (outputs.ValueKind != JsonValueKind.Array || outputs.GetArrayLength() != sent.Count)
        {
            return $"the run has {(outputs.ValueKind == JsonValueKind.Array ? outputs.GetArrayLength() : 0)} outputs, {sent.Count} were posted";
        }

        // Outputs come oldest first, so in the order the agents posted.
        return outputs.EnumerateArray().Zip(sent).Select(pair => Artifacts.Mismatch(pair.First, pair.Second)).FirstOrDefault(problem => problem is not null);
    }
}
