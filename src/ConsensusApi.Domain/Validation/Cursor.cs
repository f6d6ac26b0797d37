using System.Buffers.Text;
using System.Globalization;
using System.Text;
using ConsensusApi.Domain.Errors;

namespace ConsensusApi.Domain.Validation;

/// <summary>
/// Opaque keyset cursors: the sort key and tie-breaker of the last item of a page, base64url encoded.
/// Clients treat them as opaque; a cursor that does not decode is a validation error.
/// </summary>
public static class Cursor
{
    /// <summary>Encodes a position after (<paramref name="timestamp"/>, <paramref name="id"/>).</summary>
    public static string Encode(long timestamp, long id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{timestamp}:{id}")));

    /// <summary>Encodes a position after (<paramref name="timestamp"/>, <paramref name="key"/>).</summary>
    public static string Encode(long timestamp, string key) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{timestamp}:{key}")));

    /// <summary>Decodes a numeric cursor; null stays null.</summary>
    public static (long Timestamp, long Id)? DecodeNumeric(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        var (timestamp, rest) = Split(cursor);
        return long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? (timestamp, id)
            : throw Malformed();
    }

    /// <summary>Decodes a cursor whose tie-breaker is a string key; null stays null.</summary>
    public static (long Timestamp, string Key)? DecodeKeyed(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        var (timestamp, rest) = Split(cursor);
        return rest.Length > 0 ? (timestamp, rest) : throw Malformed();
    }

    private static (long Timestamp, string Remainder) Split(string cursor)
    {
        if (cursor.Length is 0 or > 512)
        {
            throw Malformed();
        }

        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw Malformed();
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var timestamp)
            ? (timestamp, text[(colon + 1)..])
            : throw Malformed();
    }

    private static DomainValidationException Malformed() =>
        DomainValidationException.For("cursor", "cursor is not a value returned as nextCursor by this list.");
}
