using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConsensusApi.Serialization;

/// <summary>Writes every <c>*At</c> time as the contract's ISO-8601 UTC string, <c>2026-11-26T01:02:03.456Z</c>.</summary>
internal sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
}
