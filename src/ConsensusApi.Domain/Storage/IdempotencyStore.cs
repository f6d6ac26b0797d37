using System.Text.Json;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>
/// Idempotency keys and the outcome they first produced, kept 24 hours. Always used inside the
/// write transaction it guards.
/// </summary>
internal static class IdempotencyStore
{
    /// <summary>How long a key is remembered.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static WriteOutcome<T>? TryReplay<T>(SqliteConnection connection, IdempotencyKey key, long now)
    {
        var stored = connection.QuerySingleOrDefault<StoredOutcome>(
            "SELECT fingerprint AS Fingerprint, created AS Created, response AS Response FROM idempotency_keys WHERE key = @Key AND created_at >= @Since",
            new { key.Key, Since = now - (long)Retention.TotalMilliseconds });
        if (stored is null)
        {
            return null;
        }

        if (!string.Equals(stored.Fingerprint, key.RequestFingerprint, StringComparison.Ordinal))
        {
            throw new ConflictException($"Idempotency-Key '{key.Key}' was already used with a different request.");
        }

        var value = JsonSerializer.Deserialize<T>(stored.Response, Json)
            ?? throw new InvalidOperationException($"Idempotency-Key '{key.Key}' has no stored response.");
        return new WriteOutcome<T>(value, stored.Created != 0, Replayed: true);
    }

    public static void Save<T>(SqliteConnection connection, IdempotencyKey key, T value, bool created, long now) =>
        connection.Execute(
            "INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, created, response, created_at) VALUES (@Key, @Fingerprint, @Created, @Response, @Now)",
            new { key.Key, Fingerprint = key.RequestFingerprint, Created = created, Response = JsonSerializer.Serialize(value, Json), Now = now });

    /// <summary>Forgets keys older than <see cref="Retention"/>; returns how many.</summary>
    public static int Purge(SqliteConnection connection, long now) =>
        connection.Execute("DELETE FROM idempotency_keys WHERE created_at < @Since", new { Since = now - (long)Retention.TotalMilliseconds });

    private sealed class StoredOutcome
    {
        public string Fingerprint { get; set; } = "";
        public long Created { get; set; }
        public string Response { get; set; } = "";
    }
}
