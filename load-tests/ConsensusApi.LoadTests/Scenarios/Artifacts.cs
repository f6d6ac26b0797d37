using System.Globalization;
using System.Text.Json;
using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>An artifact as a scenario sends it; <see cref="Content"/> is compact ASCII JSON.</summary>
internal sealed record SentArtifact(string SpecId, string Stage, string AgentName, long? RunTimestamp, string Content, string? ModelVersion = null);

/// <summary>Writing artifact requests and comparing what comes back with what was sent.</summary>
internal static class Artifacts
{
    public const string Path = "/api/v1/artifacts";

    /// <summary>The six stages of the terminal UI's automatic pipeline, in order.</summary>
    public static readonly string[] Stages = ["spec-plan", "spec-tasks", "spec-implement", "spec-validate", "spec-audit", "spec-unlock"];

    /// <summary>About the size of a short agent answer.</summary>
    public const string Filler = "Plan: storage engine first, then the HTTP surface; tests beside each step; no open questions.";

    public static string Content(int user, long iteration, string kind) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"kind":"{{kind}}","user":{{user}},"iteration":{{iteration}},"text":"{{Filler}}"}""");

    public static byte[] Body(SentArtifact artifact) => JsonBody.Write(writer =>
    {
        writer.WriteStartObject();
        Write(writer, artifact);
        writer.WriteEndObject();
    });

    public static void Write(Utf8JsonWriter writer, SentArtifact artifact)
    {
        writer.WriteString("specId", artifact.SpecId);
        writer.WriteString("stage", artifact.Stage);
        writer.WriteString("agentName", artifact.AgentName);
        writer.WritePropertyName("content");
        writer.WriteRawValue(artifact.Content, skipInputValidation: true);
        if (artifact.ModelVersion is not null)
        {
            writer.WriteString("modelVersion", artifact.ModelVersion);
        }

        if (artifact.RunTimestamp is { } runTimestamp)
        {
            writer.WriteNumber("runTimestamp", runTimestamp);
        }
    }

    /// <summary>Null when <paramref name="artifact"/> holds what was sent, else what differs.</summary>
    public static string? Mismatch(JsonElement artifact, SentArtifact sent, long? expectedId = null)
    {
        if (artifact.ValueKind != JsonValueKind.Object)
        {
            return "the artifact is not a JSON object";
        }

        var id = artifact.Number("id");
        if (id is not > 0)
        {
            return $"artifact id is {id?.ToString(CultureInfo.InvariantCulture) ?? "missing"}";
        }

        if (expectedId is { } expected && id != expected)
        {
            return $"artifact {expected} came back with id {id}";
        }

        if (artifact.Text("specId") != sent.SpecId || artifact.Text("stage") != sent.Stage || artifact.Text("agentName") != sent.AgentName)
        {
            return $"artifact {artifact.Number("id")} is {artifact.Text("specId")}/{artifact.Text("stage")}/{artifact.Text("agentName")}, "
                + $"expected {sent.SpecId}/{sent.Stage}/{sent.AgentName}";
        }

        if (sent.RunTimestamp is { } runTimestamp && artifact.Number("runTimestamp") != runTimestamp)
        {
            return $"artifact {artifact.Number("id")} has runTimestamp {artifact.Number("runTimestamp")}, expected {runTimestamp}";
        }

        if (sent.ModelVersion is not null && artifact.Text("modelVersion") != sent.ModelVersion)
        {
            return $"artifact {artifact.Number("id")} has modelVersion {artifact.Text("modelVersion")}, expected {sent.ModelVersion}";
        }

        return SameJson(artifact.Property("content"), sent.Content)
            ? null
            : $"artifact {artifact.Number("id")} content {Shorten(artifact.Property("content"))} differs from the {sent.Content.Length} characters sent";
    }

    /// <summary>
    /// True when <paramref name="actual"/> is the JSON value <paramref name="expected"/>: compact ASCII
    /// JSON comes back byte for byte, so the text comparison settles almost every case cheaply.
    /// </summary>
    public static bool SameJson(JsonElement actual, string expected)
    {
        if (actual.ValueKind == JsonValueKind.Undefined)
        {
            return false;
        }

        var raw = actual.GetRawText();
        return raw == expected || JsonElement.DeepEquals(actual, JsonBody.Parse(expected));
    }

    public static string Shorten(JsonElement element)
    {
        var text = element.ValueKind == JsonValueKind.Undefined ? "(missing)" : element.GetRawText();
        return text.Length <= 80 ? text : text[..77] + "...";
    }

    /// <summary>Null when a page lists only <paramref name="specId"/>/<paramref name="stage"/>, newest first, at most <paramref name="limit"/>.</summary>
    public static string? PageMismatch(JsonElement page, string specId, string stage, int limit)
    {
        if (page.Property("items") is not { ValueKind: JsonValueKind.Array } items)
        {
            return "the page has no items array";
        }

        if (!page.TryGetProperty("nextCursor", out _))
        {
            return "the page has no nextCursor member";
        }

        if (items.GetArrayLength() > limit)
        {
            return $"the page has {items.GetArrayLength()} items, limit was {limit}";
        }

        DateTimeOffset? previousAt = null;
        long previousId = long.MaxValue;
        foreach (var item in items.EnumerateArray())
        {
            if (item.Text("specId") != specId || item.Text("stage") != stage)
            {
                return $"artifact {item.Number("id")} of {item.Text("specId")}/{item.Text("stage")} listed under {specId}/{stage}";
            }

            if (!DateTimeOffset.TryParse(item.Text("createdAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt))
            {
                return $"artifact {item.Number("id")} has no readable createdAt";
            }

            var id = item.Number("id") ?? 0;
            if (previousAt is { } before && (createdAt > before || (createdAt == before && id >= previousId)))
            {
                return $"artifact {id} listed after {previousId} is not older";
            }

            previousAt = createdAt;
            previousId = id;
        }

        return null;
    }
}
