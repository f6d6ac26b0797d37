using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConsensusApi.Serialization;

/// <summary>Writes every <c>*At</c> time as the contract's ISO-8601 UTC string, <c>2026-11-26T01:02:03.456Z</c>.</summary>
internal sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        // Every page of artifacts writes two of these per item. A custom format string is parsed on
        // every call; the standard "s" format has its own fast path, and only ".fffZ" is added.
        var utc = value.UtcDateTime;
        Span<byte> text = stackalloc byte[24];
        utc.TryFormat(text, out _, "s", CultureInfo.InvariantCulture);
        text[19] = (byte)'.';
        utc.Millisecond.TryFormat(text[20..23], out _, "D3", CultureInfo.InvariantCulture);
        text[23] = (byte)'Z';
        writer.WriteStringValue(text);
    }
}
