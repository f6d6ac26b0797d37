using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// SIGKILL in the middle of concurrent writes, several times on one file: after each restart,
/// every acknowledged write reads back identically, nothing unacknowledged is half there (a
/// batch is all or nothing, a retried key stores once), and the file is sound.
/// </summary>
public class KillTests
{
    private const int Clients = 6;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledMidWriteTheServiceLosesNothingAcknowledgedAndHalfWritesNothing()
    {
        var seed = FaultSettings.Seed;
        var random = new Random(seed);
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"seed {seed} (FAULTS_SEED={seed} replays it), {FaultSettings.KillCycles} kill cycles");
        var path = Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        var ledger = new Ledger();
        var total = Stopwatch.StartNew();

        for (var cycle = 0; cycle < FaultSettings.KillCycles; cycle++)
        {
            await using var service = await RunningService.StartAsync(path, null, Ct);
            await VerifyAsync(service, ledger);
            var unknownBefore = ledger.InFlight;

            using var killed = new CancellationTokenSource();
            var killAfter = TimeSpan.FromMilliseconds(random.Next(150, 1500));
            var clients = Enumerable.Range(0, Clients)
                .Select(client => Task.Run(() => DriveAsync(service, ledger, cycle, client, new Random(seed + (cycle * 100) + client), killed.Token), Ct))
                .ToArray();
            await Task.Delay(killAfter, Ct);
            service.Process.Kill();
            await killed.CancelAsync();
            await Task.WhenAll(clients);
            output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cycle {cycle}: killed after {killAfter.TotalMilliseconds} ms; {ledger.Acknowledged} writes acknowledged so far, {ledger.InFlight - unknownBefore} in flight at the kill"));
        }

        await using (var last = await RunningService.StartAsync(path, null, Ct))
        {
            await VerifyAsync(last, ledger);
            Assert.Equal(0, await last.StopAsync(Ct));
        }

        DatabaseFile.AssertConsistent(path);
        Assert.True(ledger.Acknowledged > 0, "the clients got writes acknowledged before the kills");
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"writes whose answer a kill cut off (artifacts, batches, syntheses): {ledger.Outcomes.Committed} had committed, {ledger.Outcomes.Absent} had not, none in part; total {total.ElapsedMilliseconds} ms"));
    }

    /// <summary>One client: mixed writes until the process is killed under it.</summary>
    private static async Task DriveAsync(RunningService service, Ledger ledger, int cycle, int client, Random random, CancellationToken killed)
    {
        using var http = service.NewClient(TimeSpan.FromSeconds(20));
        for (var n = 0; !killed.IsCancellationRequested; n++)
        {
            var marker = string.Create(CultureInfo.InvariantCulture, $"c{cycle}-k{client}-n{n}");
            var spec = string.Create(CultureInfo.InvariantCulture, $"SPEC-KILL-{client}");
            var write = random.Next(100) switch
            {
                < 35 => Write.Artifact(marker, ArtifactBody(spec, marker, random)),
                < 55 => Write.Batch(marker, Requests.Batch([.. Enumerable.Range(0, random.Next(2, 9)).Select(_ => ArtifactBody(spec, marker, random))])),
                < 75 => Write.Synthesis(marker, SynthesisBody(spec, marker, cycle, client, n, random)),
                _ => Write.Run(ledger.NextRunKey(spec, random), random),
            };
            ledger.Add(write);
            try
            {
                using var request = new HttpRequestMessage(write.Method, write.Url) { Content = Json(write.Body) };
                if (write.Kind == WriteKind.Artifact)
                {
                    request.Headers.Add("Idempotency-Key", marker);
                }

                using var response = await http.SendAsync(request, CancellationToken.None);
                var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    ledger.Acknowledge(write, Parse(text));
                }
                else
                {
                    Assert.Fail($"{write.Method} {write.Url} before the kill: {(int)response.StatusCode} {text}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                // The process died under the request: its outcome is unknown to the client.
                return;
            }
        }
    }

    private static JsonObject ArtifactBody(string spec, string marker, Random random)
    {
        var body = Requests.Artifact(
            specId: spec,
            agentName: "agent-" + random.Next(4).ToString(CultureInfo.InvariantCulture),
            content: new JsonObject { ["marker"] = marker, ["text"] = Text(random, random.Next(0, 3000)), ["n"] = random.Next() }.ToJsonString(),
            runTimestamp: 1764118923456 + random.Next(20));
        body["pipelineRunId"] = marker;
        body["responseText"] = Text(random, random.Next(0, 2000));
        return body;
    }

    private static JsonObject SynthesisBody(string spec, string marker, int cycle, int client, int n, Random random)
    {
        var body = Requests.Synthesis(
            specId: spec,
            stage: "spec-validate",
            runTimestamp: 1764200000000 + (cycle * 1_000_000L) + (client * 10_000L) + n,
            outputMarkdown: "# Synthesis " + marker + "\n" + Text(random, random.Next(0, 2000)));
        body["pipelineRunId"] = marker;
        body["degraded"] = random.Next(2) == 0;
        return body;
    }

    private static string Text(Random random, int length) =>
        string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)r.Next('a', 'z' + 1);
            }
        });

    /// <summary>After a restart: every acknowledged write is there as acknowledged; every unknown one is whole or absent.</summary>
    private static async Task VerifyAsync(RunningService service, Ledger ledger)
    {
        var outcomes = ledger.Outcomes;
        DatabaseFile.AssertConsistent(service.DatabasePath);
        using var connection = DatabaseFile.OpenReadOnly(service.DatabasePath);
        foreach (var write in ledger.All)
        {
            switch (write.Kind)
            {
                case WriteKind.Artifact when write.Ack is { } ack:
                    AssertSameJson(ack, await GetAsync(service, $"/api/v1/artifacts/{ack.GetProperty("id").GetInt64()}"));
                    break;
                case WriteKind.Artifact:
                    // Unknown outcome: the client retries with the same key, and then it is stored exactly once.
                    var retry = await service.Client.PostJsonAsync("/api/v1/artifacts", write.Body, idempotencyKey: write.Marker);
                    write.Acknowledge(await retry.AssertJsonAsync(HttpStatusCode.Created));
                    outcomes.Count(retry.Headers.Contains("Idempotent-Replayed"));
                    Assert.Equal(1, DatabaseFile.Scalar(connection, $"SELECT count(*) FROM agent_outputs WHERE pipeline_run_id = '{write.Marker}'"));
                    break;
                case WriteKind.Batch when write.Ack is { } ack:
                    foreach (var item in ack.GetProperty("items").EnumerateArray())
                    {
                        AssertSameJson(item, await GetAsync(service, $"/api/v1/artifacts/{item.GetProperty("id").GetInt64()}"));
                    }

                    break;
                case WriteKind.Batch:
                    var stored = DatabaseFile.Scalar(connection, $"SELECT count(*) FROM consensus_artifacts WHERE run_id = '{write.Marker}'");
                    Assert.True(stored == 0 || stored == write.Body["items"]!.AsArray().Count, $"batch {write.Marker}: {stored} of {write.Body["items"]!.AsArray().Count} items stored");
                    outcomes.CountOnce(write, stored > 0);
                    break;
                case WriteKind.Synthesis when write.Ack is { } ack:
                    var row = DatabaseFile.Rows(connection, $"""
                        SELECT s.output_markdown, s.status, s.degraded, s.run_id, r.run_timestamp, l.output_markdown
                        FROM run_syntheses s JOIN consensus_runs r ON r.id = s.run_id JOIN consensus_synthesis l ON l.id = s.id
                        WHERE s.id = {ack.GetProperty("id").GetInt64()}
                        """);
                    var markdown = ack.GetProperty("outputMarkdown").GetString();
                    Assert.Equal(
                        $"{markdown}|ok|{(ack.GetProperty("degraded").GetBoolean() ? 1 : 0)}|{ack.GetProperty("runId").GetInt64()}|{ack.GetProperty("runTimestamp").GetInt64()}|{markdown}",
                        Assert.Single(row));
                    break;
                case WriteKind.Synthesis:
                    var synthesized = DatabaseFile.Scalar(connection, $"SELECT count(*) FROM consensus_synthesis WHERE run_id = '{write.Marker}'");
                    Assert.InRange(synthesized, 0, 1);
                    outcomes.CountOnce(write, synthesized == 1);
                    break;
            }
        }

        foreach (var (key, history) in ledger.Runs)
        {
            // The stored run is the last acknowledged upsert, or an upsert sent after it whose answer never came.
            var lastAcknowledged = history.FindLastIndex(write => write.Ack is not null);
            if (lastAcknowledged < 0)
            {
                continue;
            }

            var id = history[lastAcknowledged].Ack!.Value.GetProperty("id").GetInt64();
            var run = await GetAsync(service, $"/api/v1/runs/{id}");
            Assert.True(history.Skip(lastAcknowledged).Any(write => SameRunState(write.Body, run)), $"run {key}: stored {run}, acknowledged {history[lastAcknowledged].Body.ToJsonString()}");
        }
    }

    private static bool SameRunState(JsonObject sent, JsonElement stored) =>
        stored.GetProperty("consensusOk").GetBoolean() == sent["consensusOk"]!.GetValue<bool>()
        && stored.GetProperty("degraded").GetBoolean() == sent["degraded"]!.GetValue<bool>()
        && JsonElement.DeepEquals(stored.GetProperty("synthesis"), Parse(sent["synthesis"]!.ToJsonString()));

    private static async Task<JsonElement> GetAsync(RunningService service, string url) =>
        await (await service.Client.GetAsync(new Uri(url, UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK);

    private enum WriteKind
    {
        Artifact,
        Batch,
        Synthesis,
        Run,
    }

    /// <summary>One write a client sent, and its answer if one came.</summary>
    private sealed class Write(WriteKind kind, string marker, HttpMethod method, string url, JsonObject body)
    {
        public WriteKind Kind { get; } = kind;

        public string Marker { get; } = marker;

        public HttpMethod Method { get; } = method;

        public string Url { get; } = url;

        public JsonObject Body { get; } = body;

        public JsonElement? Ack { get; private set; }

        public void Acknowledge(JsonElement answer) => Ack = answer;

        public static Write Artifact(string marker, JsonObject body) => new(WriteKind.Artifact, marker, HttpMethod.Post, "/api/v1/artifacts", body);

        public static Write Batch(string marker, JsonObject body) => new(WriteKind.Batch, marker, HttpMethod.Post, "/api/v1/artifacts/batch", body);

        public static Write Synthesis(string marker, JsonObject body) => new(WriteKind.Synthesis, marker, HttpMethod.Post, "/api/v1/synthesis", body);

        public static Write Run((string Spec, long Timestamp) key, Random random)
        {
            var body = Requests.Run(specId: key.Spec, stage: "spec-tasks", runTimestamp: key.Timestamp, consensusOk: random.Next(2) == 0);
            body["degraded"] = random.Next(2) == 0;
            body["synthesis"] = new JsonObject { ["version"] = random.Next(), ["notes"] = Text(random, random.Next(0, 500)) };
            return new(WriteKind.Run, $"{key.Spec}@{key.Timestamp}", HttpMethod.Put, "/api/v1/runs", body);
        }
    }

    /// <summary>What became of the writes whose answer never came.</summary>
    private sealed class Outcomes
    {
        private readonly HashSet<Write> _counted = [];

        public int Committed { get; private set; }

        public int Absent { get; private set; }

        public void Count(bool committed)
        {
            if (committed)
            {
                Committed++;
            }
            else
            {
                Absent++;
            }
        }

        /// <summary>Counts an unanswered write the first time it is verified (it is verified after every restart).</summary>
        public void CountOnce(Write write, bool committed)
        {
            if (_counted.Add(write))
            {
                Count(committed);
            }
        }
    }

    /// <summary>Everything the clients sent, across kills.</summary>
    private sealed class Ledger
    {
        public Outcomes Outcomes { get; } = new();

        private readonly Lock _lock = new();
        private readonly List<Write> _all = [];
        private readonly Dictionary<string, List<Write>> _runs = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _nextRun = new(StringComparer.Ordinal);

        public IReadOnlyList<Write> All
        {
            get
            {
                lock (_lock)
                {
                    return [.. _all];
                }
            }
        }

        public IEnumerable<(string Key, List<Write> History)> Runs
        {
            get
            {
                lock (_lock)
                {
                    return _runs.Select(entry => (entry.Key, entry.Value.ToList())).ToList();
                }
            }
        }

        public int Acknowledged
        {
            get
            {
                lock (_lock)
                {
                    return _all.Count(write => write.Ack is not null);
                }
            }
        }

        public int InFlight
        {
            get
            {
                lock (_lock)
                {
                    return _all.Count(write => write.Ack is null);
                }
            }
        }

        /// <summary>A client's run key: often a new run, sometimes an update of its latest.</summary>
        public (string Spec, long Timestamp) NextRunKey(string spec, Random random)
        {
            lock (_lock)
            {
                var next = _nextRun.GetValueOrDefault(spec, 1764300000000);
                if (random.Next(2) == 0 || next == 1764300000000)
                {
                    _nextRun[spec] = next + 1;
                    return (spec, next);
                }

                return (spec, next - 1);
            }
        }

        public void Add(Write write)
        {
            lock (_lock)
            {
                _all.Add(write);
                if (write.Kind == WriteKind.Run)
                {
                    if (!_runs.TryGetValue(write.Marker, out var history))
                    {
                        _runs[write.Marker] = history = [];
                    }

                    history.Add(write);
                }
            }
        }

        public void Acknowledge(Write write, JsonElement answer)
        {
            lock (_lock)
            {
                write.Acknowledge(answer);
            }
        }
    }
}
