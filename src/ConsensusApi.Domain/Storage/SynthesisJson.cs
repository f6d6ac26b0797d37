using System.Text.Json;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// The run's <c>synthesis_json</c> written with a synthesis: the snake_case object the terminal
/// UI reads. Built in one place for live writes and for the legacy backfill.
/// </summary>
internal static class SynthesisJson
{
    public static string Build(string outputMarkdown, string? outputPath, string status, long? artifactsCount, string? agreements, string? conflicts)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("output_markdown", outputMarkdown);
            WriteNullable(writer, "output_path", outputPath);
            writer.WriteString("status", status);
            if (artifactsCount is { } count)
            {
                writer.WriteNumber("artifacts_count", count);
            }
            else
            {
                writer.WriteNull("artifacts_count");
            }

            WriteNullable(writer, "agreements", agreements);
            WriteNullable(writer, "conflicts", conflicts);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
