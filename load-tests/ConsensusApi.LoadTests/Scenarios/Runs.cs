using System.Globalization;
using System.Text.Json;
using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>A run upsert as sent; <see cref="Synthesis"/> is compact ASCII JSON.</summary>
internal sealed record SentRun(string SpecId, string Stage, long RunTimestamp, bool ConsensusOk, bool Degraded, string Synthesis);

/// <summary>A synthesis as sent.</summary>
internal sealed record SentSynthesis(string SpecId, string Stage, long RunTimestamp, string OutputMarkdown, int ArtifactsCount, bool ConsensusOk, bool Degraded);

/// <summary>Requests and checks for runs and syntheses.</summary>
internal static class Runs
{
    public const string Path = "/api/v1/runs";
    public const string SynthesisPath = "/api/v1/synthesis";

    public static byte[] Body(SentRun run) => JsonBody.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("specId", run.SpecId);
        writer.WriteString("stage", run.Stage);
        writer.WriteNumber("runTimestamp", run.RunTimestamp);
        writer.WriteBoolean("consensusOk", run.ConsensusOk);
        writer.WriteBoolean("degraded", run.Degraded);
        writer.WritePropertyName("synthesis");
        writer.WriteRawValue(run.Synthesis, skipInputValidation: true);
        writer.WriteEndObject();
    });

    public static byte[] Body(SentSynthesis synthesis) => JsonBody.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("specId", synthesis.SpecId);
        writer.WriteString("stage", synthesis.Stage);
        writer.WriteString("outputMarkdown", synthesis.OutputMarkdown);
        writer.WriteString("outputPath", $"docs/{synthesis.SpecId}/{synthesis.Stage}.md");
        writer.WriteString("status", "ok");
        writer.WriteNumber("artifactsCount", synthesis.ArtifactsCount);
        writer.WriteString("agreements", "Phases and their order.");
        writer.WriteString("conflicts", "None.");
        writer.WriteBoolean("degraded", synthesis.Degraded);
        writer.WriteBoolean("consensusOk", synthesis.ConsensusOk);
        writer.WriteNumber("runTimestamp", synthesis.RunTimestamp);
        writer.WriteEndObject();
    });

    /// <summary>Null when <paramref name="run"/> is the run that was upserted, else what differs.</summary>
    public static string? Mismatch(JsonElement run, SentRun sent, long? expectedId = null)
    {
        var id = run.Number("id");
        if (id is not > 0 || (expectedId is { } expected && id != expected))
        {
            return $"run id is {id?.ToString(CultureInfo.InvariantCulture) ?? "missing"}{(expectedId is null ? "" : $", expected {expectedId}")}";
        }

        if (run.Text("specId") != sent.SpecId || run.Text("stage") != sent.Stage || run.Number("runTimestamp") != sent.RunTimestamp)
        {
            return $"run {id} is {run.Text("specId")}/{run.Text("stage")}/{run.Number("runTimestamp")}, expected {sent.SpecId}/{sent.Stage}/{sent.RunTimestamp}";
        }

        if (run.Flag("consensusOk") != sent.ConsensusOk || run.Flag("degraded") != sent.Degraded)
        {
            return $"run {id} has consensusOk {run.Flag("consensusOk")} and degraded {run.Flag("degraded")}, expected {sent.ConsensusOk} and {sent.Degraded}";
        }

        return Artifacts.SameJson(run.Property("synthesis"), sent.Synthesis)
            ? null
            : $"run {id} synthesis {Artifacts.Shorten(run.Property("synthesis"))} differs from what was sent";
    }

    /// <summary>Null when <paramref name="synthesis"/> echoes what was sent, else what differs.</summary>
    public static string? Mismatch(JsonElement synthesis, SentSynthesis sent)
    {
        if (synthesis.Number("id") is not > 0 || synthesis.Number("runId") is not > 0)
        {
            return "the synthesis has no id or runId";
        }

        if (synthesis.Text("specId") != sent.SpecId || synthesis.Text("stage") != sent.Stage || synthesis.Number("runTimestamp") != sent.RunTimestamp)
        {
            return $"synthesis {synthesis.Number("id")} is {synthesis.Text("specId")}/{synthesis.Text("stage")}/{synthesis.Number("runTimestamp")}, "
                + $"expected {sent.SpecId}/{sent.Stage}/{sent.RunTimestamp}";
        }

        if (synthesis.Text("outputMarkdown") != sent.OutputMarkdown || synthesis.Text("status") != "ok" || synthesis.Number("artifactsCount") != sent.ArtifactsCount)
        {
            return $"synthesis {synthesis.Number("id")} has other markdown, status or artifactsCount than sent";
        }

        return synthesis.Flag("consensusOk") == sent.ConsensusOk && synthesis.Flag("degraded") == sent.Degraded
            ? null
            : $"synthesis {synthesis.Number("id")} has consensusOk {synthesis.Flag("consensusOk")} and degraded {synthesis.Flag("degraded")}";
    }

    /// <summary>Null when a run's stored synthesis object (the terminal UI's snake_case form) holds <paramref name="sent"/>.</summary>
    public static string? StoredSynthesisMismatch(JsonElement run, SentSynthesis sent)
    {
        var stored = run.Property("synthesis");
        if (stored.ValueKind != JsonValueKind.Object)
        {
            return $"run {run.Number("id")} has no synthesis object";
        }

        if (stored.Text("output_markdown") != sent.OutputMarkdown || stored.Number("artifacts_count") != sent.ArtifactsCount)
        {
            return $"run {run.Number("id")} synthesis holds other markdown or artifacts_count than sent";
        }

        return run.Flag("consensusOk") == sent.ConsensusOk && run.Flag("degraded") == sent.Degraded
            ? null
            : $"run {run.Number("id")} has consensusOk {run.Flag("consensusOk")} and degraded {run.Flag("degraded")} after its synthesis";
    }
}
