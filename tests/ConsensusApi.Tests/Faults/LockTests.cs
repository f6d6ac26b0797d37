using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// Another process holds <c>BEGIN EXCLUSIVE</c> on the file (Debian's sqlite3 shell): a short
/// lock is ridden out by retry, a long one ends in 503 with Retry-After (never a 500, never past
/// the request timeout), nothing is half-written, and the service recovers by itself.
/// </summary>
public class LockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Small waits so the test is quick: SQLite waits 100 ms per statement, Microsoft.Data.Sqlite
    /// re-tries a busy statement for its 1 s command timeout, so one attempt lasts about a second;
    /// three attempts with 200 ms and 400 ms backoff (jittered by half) give up after about 3.5 s.
    /// </summary>
    private static readonly Dictionary<string, string> Quick = new()
    {
        ["Database:BusyTimeoutMs"] = "100",
        ["Retry:MaxAttempts"] = "3",
        ["Retry:InitialBackoffMs"] = "200",
        ["Retry:MaxBackoffMs"] = "1000",
        ["Limits:RequestTimeoutSeconds"] = "10",
    };

    /// <summary>One write of each kind, all marked so the file can be searched for them.</summary>
    private static IEnumerable<(string Kind, HttpMethod Method, string Url, JsonObject Body)> Writes(string marker)
    {
        var artifact = Requests.Artifact(specId: "SPEC-LOCK", content: $$"""{"marker":"{{marker}}"}""", runTimestamp: 1764118923456);
        artifact["pipelineRunId"] = marker;
        var batchItem = Requests.Artifact(specId: "SPEC-LOCK", stage: "spec-tasks", content: $$"""{"marker":"{{marker}}"}""");
        batchItem["pipelineRunId"] = marker;
        var synthesis = Requests.Synthesis(specId: "SPEC-LOCK", stage: "spec-validate", runTimestamp: null);
        synthesis["pipelineRunId"] = marker;
        yield return ("artifact", HttpMethod.Post, "/api/v1/artifacts", artifact);
        yield return ("batch", HttpMethod.Post, "/api/v1/artifacts/batch", Requests.Batch(batchItem, batchItem.DeepClone().AsObject()));
        yield return ("synthesis", HttpMethod.Post, "/api/v1/synthesis", synthesis);
        yield return ("run", HttpMethod.Put, "/api/v1/runs", Requests.Run(specId: "SPEC-LOCK-" + marker, stage: "spec-audit"));
    }

    private static async Task<(string Kind, HttpResponseMessage Response, TimeSpan Elapsed)> SendAsync(HttpClient client, (string Kind, HttpMethod Method, string Url, JsonObject Body) write)
    {
        var watch = Stopwatch.StartNew();
        var response = await client.SendJsonAsync(write.Method, write.Url, write.Body.ToJsonString(), idempotencyKey: null);
        return (write.Kind, response, watch.Elapsed);
    }

    private static async Task<TimeSpan> TimeReadAsync(HttpClient client, string url)
    {
        var watch = Stopwatch.StartNew();
        await (await client.GetAsync(new Uri(url, UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK);
        return watch.Elapsed;
    }

    private static long Stored(string path, string marker) => DatabaseFile.Scalar(path, $"""
        SELECT (SELECT count(*) FROM consensus_artifacts WHERE run_id = '{marker}')
             + (SELECT count(*) FROM agent_outputs WHERE pipeline_run_id = '{marker}')
             + (SELECT count(*) FROM consensus_synthesis WHERE run_id = '{marker}')
             + (SELECT count(*) FROM run_syntheses WHERE pipeline_run_id = '{marker}')
             + (SELECT count(*) FROM consensus_runs WHERE spec_id = 'SPEC-LOCK-{marker}')
        """);

    [Fact]
    public async Task WritesDuringAShortLockSucceedThroughRetry()
    {
        SqliteCliLock.Require();
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        await using var service = await RunningService.StartAsync(path, Quick, Ct);
        var output = TestContext.Current.TestOutputHelper;

        TimeSpan held;
        (string Kind, HttpResponseMessage Response, TimeSpan Elapsed)[] results;
        await using (var holder = await SqliteCliLock.HoldAsync(path, Ct))
        {
            var writes = Writes("short").Concat(Writes("short-2")).Select(write => SendAsync(service.Client, write)).ToArray();
            var read = await TimeReadAsync(service.Client, Requests.ArtifactsOf("SPEC-LOCK"));
            Assert.True(read < TimeSpan.FromSeconds(2), $"reads go on during the lock (WAL); this one took {read.TotalMilliseconds} ms");
            await Task.Delay(1800, Ct);
            await holder.ReleaseAsync();
            held = holder.Held.Elapsed;
            results = await Task.WhenAll(writes);
        }

        foreach (var (kind, response, elapsed) in results)
        {
            var body = await response.ReadBodyAsync();
            Assert.True(response.IsSuccessStatusCode, $"{kind} during a {held.TotalMilliseconds} ms lock: {(int)response.StatusCode} {body}");
            Assert.True(elapsed >= TimeSpan.FromSeconds(1), $"{kind} waited for the lock: {elapsed.TotalMilliseconds} ms");
            output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind}: {(int)response.StatusCode} after {elapsed.TotalMilliseconds:F0} ms (lock held {held.TotalMilliseconds:F0} ms)"));
        }

        var retry = (await (await service.Client.GetAsync(new Uri("/api/v1/admin/telemetry", UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK)).GetProperty("retry");
        output?.WriteLine("retry telemetry: " + retry);
        Assert.True(retry.GetProperty("recovered").GetInt64() >= 1, $"the writes recovered through retry: {retry}");
        Assert.Equal(0, retry.GetProperty("exhausted").GetInt64());
        Assert.Equal(0, await service.StopAsync(Ct));
        DatabaseFile.AssertConsistent(path);
    }

    [Fact]
    public async Task WritesDuringALongLockEndIn503WithRetryAfterWriteNothingAndTheServiceRecoversByItself()
    {
        SqliteCliLock.Require();
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        await using var service = await RunningService.StartAsync(path, Quick, Ct);
        var output = TestContext.Current.TestOutputHelper;

        await using (var holder = await SqliteCliLock.HoldAsync(path, Ct))
        {
            var results = await Task.WhenAll(Writes("long").Select(write => SendAsync(service.Client, write)));
            foreach (var (kind, response, elapsed) in results)
            {
                var problem = await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                var retryAfter = Assert.Single(response.Headers.GetValues("Retry-After"));
                Assert.True(int.TryParse(retryAfter, CultureInfo.InvariantCulture, out var seconds) && seconds >= 1, $"Retry-After in whole seconds: '{retryAfter}'");
                Assert.True(elapsed < TimeSpan.FromSeconds(10), $"{kind} answered within the request timeout: {elapsed.TotalMilliseconds} ms");
                output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind}: 503 after {elapsed.TotalMilliseconds:F0} ms, Retry-After {retryAfter}: {problem.GetProperty("detail")}"));
            }

            Assert.True(await service.IsReadyAsync(Ct), "reads, health included, go on during the lock");
            await TimeReadAsync(service.Client, "/api/v1/specs");
            Assert.Equal(0, Stored(path, "long"));
            output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lock held {holder.Held.ElapsedMilliseconds} ms"));
        }

        var after = await Task.WhenAll(Writes("after").Select(write => SendAsync(service.Client, write)));
        Assert.All(after, result => Assert.True(result.Response.IsSuccessStatusCode, $"{result.Kind} after the lock: {(int)result.Response.StatusCode}"));
        Assert.Equal(0, Stored(path, "long"));
        Assert.Equal(0, await service.StopAsync(Ct));
        DatabaseFile.AssertConsistent(path);
    }

    [Fact]
    public async Task ARequestThatOutlastsTheRequestTimeoutEndsIn503WithRetryAfter()
    {
        SqliteCliLock.Require();
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        // A retry budget (20 attempts) far longer than the request timeout (3 s).
        await using var service = await RunningService.StartAsync(path, new Dictionary<string, string>(Quick)
        {
            ["Retry:MaxAttempts"] = "20",
            ["Limits:RequestTimeoutSeconds"] = "3",
        }, Ct);
        var output = TestContext.Current.TestOutputHelper;

        await using (var holder = await SqliteCliLock.HoldAsync(path, Ct))
        {
            var results = await Task.WhenAll(Writes("timeout").Select(write => SendAsync(service.Client, write)));
            foreach (var (kind, response, elapsed) in results)
            {
                var problem = await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                Assert.Single(response.Headers.GetValues("Retry-After"));
                Assert.Contains("Limits:RequestTimeoutSeconds", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
                // The timeout cancels waiting and retrying; a storage attempt already running (about a second
                // here) ends first. A second more for a busy machine.
                Assert.InRange(elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(6));
                output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind}: 503 after {elapsed.TotalMilliseconds:F0} ms: {problem.GetProperty("detail")}"));
            }

            Assert.Equal(0, Stored(path, "timeout"));
        }

        var after = await Task.WhenAll(Writes("after").Select(write => SendAsync(service.Client, write)));
        Assert.All(after, result => Assert.True(result.Response.IsSuccessStatusCode, $"{result.Kind} after the lock: {(int)result.Response.StatusCode}"));
        Assert.Equal(0, Stored(path, "timeout"));
        Assert.Equal(0, await service.StopAsync(Ct));
        DatabaseFile.AssertConsistent(path);
    }
}
