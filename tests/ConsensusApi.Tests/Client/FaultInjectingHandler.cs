using System.Collections.Concurrent;
using System.Net;
using ConsensusApi.Client;

namespace ConsensusApi.Tests.Client;

/// <summary>A failure injected into one attempt of a write.</summary>
internal enum Fault
{
    /// <summary>Forward the request, let the server store it, then lose the connection before the response arrives.</summary>
    Drop,

    /// <summary>Forward the request, let the server store it, then never answer (the attempt times out).</summary>
    Hang,

    /// <summary>Answer 503 with Retry-After without forwarding.</summary>
    Unavailable,

    /// <summary>Answer 429 with Retry-After without forwarding.</summary>
    TooManyRequests,
}

/// <summary>
/// Sits between the client's retry pipeline and the service and breaks attempts of writes by a
/// fixed plan: the n-th write (told apart by its Idempotency-Key) gets the faults of
/// <c>plans[n % plans.Length]</c> on its first attempts, then goes through. Other requests (reads,
/// and the deletes a test counts with) pass untouched.
/// </summary>
internal sealed class FaultInjectingHandler(IReadOnlyList<Fault[]> plans) : DelegatingHandler
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private int _nextCall;
    private int _storedThenLost;
    private int _refused;
    private int _replayed;

    /// <summary>Writes the server stored whose response the client never received.</summary>
    public int StoredThenLost => Volatile.Read(ref _storedThenLost);

    /// <summary>Attempts answered 503 or 429 without reaching the server.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Responses the server marked as a replay of an earlier outcome (Idempotent-Replayed).</summary>
    public int Replayed => Volatile.Read(ref _replayed);

    /// <summary>Writes seen.</summary>
    public int Calls => Volatile.Read(ref _nextCall);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Method != HttpMethod.Post || !request.Headers.TryGetValues(ConsensusApiClient.IdempotencyKeyHeader, out var keys))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        var key = keys.Single();
        var call = _calls.GetOrAdd(key, _ => Interlocked.Increment(ref _nextCall) - 1);
        var attempt = _attempts.AddOrUpdate(key, 0, (_, previous) => previous + 1);
        var plan = plans[call % plans.Count];
        if (attempt >= plan.Length)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.Contains("Idempotent-Replayed"))
            {
                Interlocked.Increment(ref _replayed);
            }

            return response;
        }

        switch (plan[attempt])
        {
            case Fault.Unavailable or Fault.TooManyRequests:
                Interlocked.Increment(ref _refused);
                var status = plan[attempt] == Fault.Unavailable ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.TooManyRequests;
                var refused = ScriptedHandler.Problem(status, TimeSpan.FromSeconds(1));
                refused.RequestMessage = request;
                return refused;
            case Fault.Drop:
                await StoreAndLoseAsync(request, cancellationToken);
                throw new HttpRequestException(HttpRequestError.ConnectionError, "The connection was lost before the response arrived.");
            default:
                await StoreAndLoseAsync(request, cancellationToken);
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                throw new InvalidOperationException("Unreachable: the attempt timeout cancels the wait.");
        }
    }

    private async Task StoreAndLoseAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await base.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode && !response.Headers.Contains("Idempotent-Replayed"))
        {
            Interlocked.Increment(ref _storedThenLost);
        }
    }
}
