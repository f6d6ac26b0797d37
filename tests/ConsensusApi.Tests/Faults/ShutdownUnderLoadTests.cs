using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// SIGTERM while requests are in flight: they complete, new connections are refused, the WAL is
/// checkpointed, the exit code is 0, and every acknowledged write is in the file.
/// </summary>
public class ShutdownUnderLoadTests
{
    private const int Clients = 8;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SigtermDuringLoadFinishesInFlightRequestsRefusesNewOnesAndLosesNothingAcknowledged()
    {
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        var output = TestContext.Current.TestOutputHelper;
        var acknowledged = new ConcurrentDictionary<long, JsonElement>();
        var refused = 0;
        var failures = new ConcurrentQueue<string>();

        await using (var service = await RunningService.StartAsync(path, null, Ct))
        {
            // A request whose body is still arriving when SIGTERM comes: in flight for sure.
            var slowBody = new SlowBody(Requests.Batch([.. Enumerable.Range(0, 20).Select(i => Requests.Artifact(specId: "SPEC-SLOW", agentName: $"slow-{i}"))]).ToJsonString());
            using var slowClient = service.NewClient();
            var slow = slowClient.PostAsync(new Uri("/api/v1/artifacts/batch", UriKind.Relative), slowBody, Ct);
            await slowBody.HalfSent.WaitAsync(TimeSpan.FromSeconds(10), Ct);

            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
            {
                using var http = service.NewClient();
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var body = Requests.Artifact(specId: $"SPEC-STOP-{client}", agentName: $"agent-{n}", content: $$"""{"client":{{client}},"n":{{n}}}""");
                    try
                    {
                        using var response = await http.PostJsonAsync("/api/v1/artifacts", body);
                        var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            var artifact = Parse(text);
                            acknowledged[artifact.GetProperty("id").GetInt64()] = artifact;
                        }
                        else
                        {
                            failures.Enqueue($"{(int)response.StatusCode} {text}");
                        }
                    }
                    catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded)
                    {
                        // Refused: the listener is closed, or the connection was closed before this request was read.
                        Interlocked.Increment(ref refused);
                        return;
                    }
                }
            }, Ct)).ToArray();

            await Task.Delay(500, Ct);
            var acknowledgedBeforeSigterm = acknowledged.Count;
            var watch = Stopwatch.StartNew();
            service.Process.Terminate();

            // Shutting down: new connections are refused while the slow request is still being served.
            await Task.Delay(300, Ct);
            using (var newcomer = service.NewClient(TimeSpan.FromSeconds(5)))
            {
                var error = await Assert.ThrowsAsync<HttpRequestException>(() => newcomer.GetAsync(new Uri("/health/live", UriKind.Relative), Ct));
                Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
            }

            Assert.False(service.Process.HasExited, "the service is still draining the slow request:\n" + service.Process.Output);
            slowBody.SendRest();
            using var slowResponse = await slow;
            var batch = await slowResponse.AssertJsonAsync(HttpStatusCode.Created);
            foreach (var item in batch.GetProperty("items").EnumerateArray())
            {
                acknowledged[item.GetProperty("id").GetInt64()] = item;
            }

            await stop.CancelAsync();
            await Task.WhenAll(load);
            var exitCode = await service.Process.WaitForExitAsync(TimeSpan.FromSeconds(30), Ct);
            output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{acknowledgedBeforeSigterm} artifacts acknowledged before SIGTERM, {acknowledged.Count} in all (the slow batch of 20 included), {refused} clients refused, exit {exitCode} after {watch.ElapsedMilliseconds} ms"));

            Assert.Equal(0, exitCode);
            Assert.Empty(failures);
            Assert.Equal(Clients, refused);
            Assert.Contains("closed", service.Process.Output, StringComparison.Ordinal);
        }

        var wal = new FileInfo(path + "-wal");
        Assert.True(!wal.Exists || wal.Length == 0, $"the WAL was checkpointed and truncated on shutdown ({(wal.Exists ? wal.Length : 0)} bytes)");
        DatabaseFile.AssertConsistent(path);

        await using var restarted = await RunningService.StartAsync(path, null, Ct);
        foreach (var (id, artifact) in acknowledged)
        {
            AssertSameJson(artifact, await (await restarted.Client.GetAsync(new Uri($"/api/v1/artifacts/{id}", UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK));
        }
    }

    /// <summary>A JSON body sent in two halves: the second only when <see cref="SendRest"/> is called.</summary>
    private sealed class SlowBody : HttpContent
    {
        private readonly byte[] _bytes;
        private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _rest = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SlowBody(string json)
        {
            _bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        public Task HalfSent => _halfSent.Task;

        public void SendRest() => _rest.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = _bytes.Length / 2;
            await stream.WriteAsync(_bytes.AsMemory(0, half));
            await stream.FlushAsync();
            _halfSent.TrySetResult();
            await _rest.Task;
            await stream.WriteAsync(_bytes.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return true;
        }
    }
}
