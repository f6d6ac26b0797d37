using System.Globalization;
using System.Text.Json;
using ConsensusApi.LoadTests.Scenarios;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>Writes the artifacts the read and get scenarios load, in batches, and checks each batch's answer.</summary>
public static class Seeder
{
    private const int BatchSize = 250;
    private static readonly string[] Agents = ["gemini", "claude", "gpt"];

    /// <summary>Seeds <paramref name="count"/> artifacts into one spec and stage.</summary>
    public static async Task<SeedData> SeedAsync(ApiClient client, string prefix, long baseTimestamp, int count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var specId = $"LT-SEED-{prefix}";
        const string stage = "spec-plan";
        var ids = new List<long>(count);
        var contents = new Dictionary<long, JsonElement>(count);
        for (var first = 0; first < count; first += BatchSize)
        {
            var batch = Enumerable.Range(first, Math.Min(BatchSize, count - first))
                .Select(i => new SentArtifact(
                    specId,
                    stage,
                    Agents[i % Agents.Length],
                    baseTimestamp + (i / Agents.Length),
                    string.Create(CultureInfo.InvariantCulture, $$"""{"seed":{{i}},"text":"{{Artifacts.Filler}}"}"""),
                    "seed-1"))
                .ToList();
            var body = JsonBody.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteStartArray("items");
                foreach (var artifact in batch)
                {
                    writer.WriteStartObject();
                    Artifacts.Write(writer, artifact);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            });
            var response = await client.PostAsync($"{Artifacts.Path}/batch", body, 201, cancellationToken);
            if (!response.Success)
            {
                throw new InvalidOperationException($"Seeding: POST {Artifacts.Path}/batch answered {response.Status}: {System.Text.Encoding.UTF8.GetString(response.Body)}");
            }

            using var document = JsonDocument.Parse(response.Body);
            var items = document.RootElement.Property("items");
            if (items.ValueKind != JsonValueKind.Array || items.GetArrayLength() != batch.Count)
            {
                throw new InvalidOperationException("Seeding: the batch answer does not list every item.");
            }

            foreach (var (item, sent) in items.EnumerateArray().Zip(batch))
            {
                if (Artifacts.Mismatch(item, sent) is { } problem)
                {
                    throw new InvalidOperationException($"Seeding: {problem}");
                }

                var id = item.Number("id")!.Value;
                ids.Add(id);
                contents[id] = JsonBody.Parse(sent.Content);
            }
        }

        return new SeedData { SpecId = specId, Stage = stage, Ids = ids, Contents = contents };
    }
}
