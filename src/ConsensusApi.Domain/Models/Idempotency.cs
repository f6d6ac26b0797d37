namespace ConsensusApi.Domain.Models;

/// <summary>A client's <c>Idempotency-Key</c> and a fingerprint of the request it came with.</summary>
/// <param name="Key">1-128 printable ASCII characters.</param>
/// <param name="RequestFingerprint">Hash of the operation and its body; the same key with another fingerprint is a conflict.</param>
public sealed record IdempotencyKey(string Key, string RequestFingerprint);

/// <summary>Outcome of a guarded write.</summary>
/// <param name="Value">The stored (or originally stored) representation.</param>
/// <param name="Created">True when the original write created the resource (201), false when it updated one (200).</param>
/// <param name="Replayed">True when the key was seen before and nothing was written.</param>
public sealed record WriteOutcome<T>(T Value, bool Created, bool Replayed);
