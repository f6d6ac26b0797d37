using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// A thousand sequential rounds of every kind of operation (store, batch, synthesis, run insert
/// and update, every read, stage and spec deletes) with the vacuum scheduled every second: the
/// file stays under 10 MB and its free pages stay bounded.
/// </summary>
public class LongRunTests
{
    private const long TenMegabytes = 10L << 20;

    /// <summary>Specs kept alive at any time: round i deletes spec i - 20 and a stage of spec i - 10.</summary>
    private const int Window = 20;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AThousandRoundsOfEveryOperationKeepTheFileUnderTenMegabytesAndItsFreelistBounded()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?>
        {
            ["Vacuum:Interval"] = "00:00:01",
            ["Vacuum:Pages"] = "200",
        });
        using var client = factory.CreateClient(TestKeys.Anonymous);
        var output = TestContext.Current.TestOutputHelper;
        var random = new Random(FaultSettings.Seed);
        var rounds = FaultSettings.LongRunOperations;
        var samples = new List<(int Round, long Size, long Freelist, long Wal, long Answers)>();
        var operations = 0;
        var watch = Stopwatch.StartNew();

        for (var round = 0; round < rounds; round++)
        {
            var spec = Spec(round);
            var text = new string((char)('a' + (round % 26)), random.Next(500, 2000));
            var artifact = Requests.Artifact(specId: spec, content: new JsonObject { ["round"] = round, ["text"] = text }.ToJsonString(), runTimestamp: 1764118923456 + round);
            artifact["responseText"] = text;
            var stored = await (await client.PostJsonAsync("/api/v1/artifacts", artifact, idempotencyKey: "long-" + round.ToString(CultureInfo.InvariantCulture))).AssertJsonAsync(HttpStatusCode.Created);
            await (await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch(
                Requests.Artifact(specId: spec, stage: "spec-tasks", agentName: "claude", content: $$"""{"n":{{round}}}"""),
                Requests.Artifact(specId: spec, stage: "spec-tasks", agentName: "gemini", content: $$"""{"n":{{round}}}"""),
                Requests.Artifact(specId: spec, stage: "spec-tasks", agentName: "code", content: $$"""{"n":{{round}}}""")))).AssertJsonAsync(HttpStatusCode.Created);
            await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis(specId: spec, runTimestamp: 1764118923456 + round, outputMarkdown: "# Plan\n" + text))).AssertJsonAsync(HttpStatusCode.Created);
            await (await client.PutJsonAsync("/api/v1/runs", Requests.Run(specId: spec, stage: "spec-audit", runTimestamp: 1764118923456 + round, consensusOk: false))).AssertJsonAsync(HttpStatusCode.Created);
            await (await client.PutJsonAsync("/api/v1/runs", Requests.Run(specId: spec, stage: "spec-audit", runTimestamp: 1764118923456 + round, consensusOk: true))).AssertJsonAsync(HttpStatusCode.OK);
            await GetAsync(client, $"/api/v1/artifacts/{stored.GetProperty("id").GetInt64()}");
            await GetAsync(client, Requests.ArtifactsOf(spec) + "?limit=10");
            await GetAsync(client, Requests.RunsOf(spec));
            await GetAsync(client, Requests.RunsOf(spec) + "/latest");
            await GetAsync(client, $"/api/v1/specs/{spec}/stages/{Requests.Stage}/synthesis/latest");
            await GetAsync(client, "/api/v1/specs?limit=10");
            operations += 11;
            if (round >= Window / 2)
            {
                await (await client.DeleteAsync(new Uri($"/api/v1/specs/{Spec(round - (Window / 2))}/stages/spec-tasks", UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK);
                operations++;
            }

            if (round >= Window)
            {
                await (await client.DeleteAsync(new Uri($"/api/v1/specs/{Spec(round - Window)}", UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK);
                operations++;
            }

            if (round % 50 == 49)
            {
                samples.Add(await SampleAsync(client, factory.DatabasePath, round));
            }
        }

        var elapsed = watch.Elapsed;
        // One more scheduled cycle after the last write.
        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        var last = await SampleAsync(client, factory.DatabasePath, rounds);
        var storage = await GetAsync(client, "/api/v1/admin/storage");
        var lastVacuum = storage.GetProperty("lastVacuum");
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} rounds, {operations} operations in {elapsed.TotalSeconds:F1} s; file max {samples.Max(s => s.Size)} bytes, final {last.Size} ({last.Answers} of idempotency answers); " +
            $"freelist max {samples.Max(s => s.Freelist)} bytes, final {last.Freelist}; WAL max {samples.Max(s => s.Wal)} bytes; last vacuum {lastVacuum}"));
        foreach (var sample in samples.Where((_, i) => i % 4 == 3))
        {
            output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {sample.Round}: file {sample.Size}, freelist {sample.Freelist}, WAL {sample.Wal}, idempotency answers {sample.Answers}"));
        }

        Assert.Equal("incremental", storage.GetProperty("autoVacuum").GetString());
        Assert.Equal(JsonValueKind.Object, lastVacuum.ValueKind);
        // Idempotency keys keep their first answer for 24 hours, so the file grows with the keyed writes of a
        // day; the 10 MB holds for the thousand rounds of CI, and bigger runs report how much the keys take.
        if (rounds <= 1000)
        {
            Assert.All(samples, sample => Assert.True(sample.Size < TenMegabytes, $"round {sample.Round}: the file is {sample.Size} bytes"));
            Assert.True(new FileInfo(factory.DatabasePath).Length < TenMegabytes, "the file on disk is under 10 MB");
        }
        // The deletes of one second free far less than a cycle's 200 pages (800 KB) reclaim.
        Assert.All(samples, sample => Assert.True(sample.Freelist <= 1L << 20, $"round {sample.Round}: {sample.Freelist} bytes in free pages"));
        DatabaseFile.AssertConsistent(factory.DatabasePath);
        using var connection = DatabaseFile.OpenReadOnly(factory.DatabasePath);
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"live rows: {DatabaseFile.Scalar(connection, "SELECT count(*) FROM consensus_artifacts")} artifacts, {DatabaseFile.Scalar(connection, "SELECT count(*) FROM consensus_runs")} runs; " +
            $"{DatabaseFile.Scalar(connection, "SELECT count(*) FROM idempotency_keys")} idempotency keys holding {DatabaseFile.Scalar(connection, "SELECT coalesce(sum(length(response)), 0) FROM idempotency_keys")} bytes of answers (kept 24 h)"));
    }

    private static string Spec(int round) => "SPEC-LONG-" + round.ToString(CultureInfo.InvariantCulture);

    private static async Task<JsonElement> GetAsync(HttpClient client, string url) =>
        await (await client.GetAsync(new Uri(url, UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK);

    private static async Task<(int Round, long Size, long Freelist, long Wal, long Answers)> SampleAsync(HttpClient client, string path, int round)
    {
        var storage = await GetAsync(client, "/api/v1/admin/storage");
        var answers = DatabaseFile.Scalar(path, "SELECT coalesce(sum(length(key) + length(fingerprint) + length(response)), 0) FROM idempotency_keys");
        return (round, storage.GetProperty("sizeBytes").GetInt64(), storage.GetProperty("freelistBytes").GetInt64(), storage.GetProperty("walBytes").GetInt64(), answers);
    }
}
