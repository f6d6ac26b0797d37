using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace ConsensusApi.Serialization;

/// <summary>
/// Reads free-form JSON values (an artifact's <c>content</c>, a run's <c>synthesis</c>) only when
/// every string and property name in them is text: valid UTF-8, with no escaped lone surrogate.
/// System.Text.Json checks the structure of such a value while binding but decodes its strings
/// only later. Invalid UTF-8 inside <c>content</c> was bound, and the first read of the value (the
/// content size check, the idempotency fingerprint, the insert) threw: a 500 for bad input. An
/// escaped lone surrogate (<c>"\uD800"</c>) was even stored, in both schemas, before writing the
/// answer failed and the client was told 400: a row written by a refused request, which neither
/// the API nor the terminal UI's JSON parser could read back. Refused here, both are a 400
/// naming the field.
/// </summary>
internal sealed class Utf8JsonElementConverter : JsonConverter<JsonElement>
{
    public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The serializer has buffered the whole value for a custom converter: scan a copy of the reader, then parse.
        var scan = reader;
        Check(ref scan);
        if (scan.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            var depth = scan.CurrentDepth;
            while (scan.Read() && scan.CurrentDepth > depth)
            {
                Check(ref scan);
            }
        }

        return JsonElement.ParseValue(ref reader);
    }

    public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);

        // Every value written is one System.Text.Json parsed (a request's, or a stored one read
        // back), so its text is valid JSON: copied as it is, not re-encoded token by token.
        writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);
    }

    private static void Check(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
        {
            return;
        }

        if (!Utf8.IsValid(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan))
        {
            throw new JsonException("The value is not valid UTF-8.");
        }

        if (reader.ValueIsEscaped)
        {
            try
            {
                // Unescaping checks the \u escapes: a lone surrogate is valid JSON text but no character.
                _ = reader.GetString();
            }
            catch (InvalidOperationException ex)
            {
                throw new JsonException("The value is not valid UTF-8: it escapes a lone surrogate.", ex);
            }
        }
    }
}
