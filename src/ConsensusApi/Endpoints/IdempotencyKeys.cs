using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Endpoints;

/// <summary>
/// Reads the <c>Idempotency-Key</c> header and fingerprints the request it came with: the
/// operation and its body as bound, so the same JSON value sent twice with other spacing or
/// property order is still "the same body".
/// </summary>
internal sealed class IdempotencyKeys(IOptions<JsonOptions> json)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public IdempotencyKey? From(HttpContext context, string operation, object request)
    {
        if (!context.Request.Headers.TryGetValue(Header, out var values))
        {
            return null;
        }

        var key = values.Count == 1 ? values[0] : null;
        if (key is not { Length: >= 1 and <= 128 } || key.Any(c => c is < (char)0x20 or > (char)0x7E))
        {
            throw DomainValidationException.For(Header, "Idempotency-Key must be one value of 1-128 printable ASCII characters.");
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), json.Value.SerializerOptions);
        var fingerprint = Convert.ToHexString(SHA256.HashData([.. Encoding.UTF8.GetBytes(operation + "\n"), .. body]));
        return new IdempotencyKey(key, fingerprint);
    }

    /// <summary>Marks a response that replays an earlier outcome.</summary>
    public static void MarkReplay<T>(HttpContext context, WriteOutcome<T> outcome)
    {
        if (outcome.Replayed)
        {
            context.Response.Headers[ReplayedHeader] = "true";
        }
    }
}
