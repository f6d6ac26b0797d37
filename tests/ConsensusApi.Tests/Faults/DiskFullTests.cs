using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Infrastructure;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// The disk under the database fills up (a small tmpfs, for real): writes answer 507 with a
/// problem body, reads go on, nothing partial is stored, and writes succeed again once space
/// is freed, without a restart.
/// </summary>
public class DiskFullTests
{
    private const int PayloadBytes = 192 * 1024;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Payload(char fill) => new(fill, PayloadBytes);

    /// <summary>A write of each kind carrying about <see cref="PayloadBytes"/>, marked for searching the file.</summary>
    private static IEnumerable<(string Kind, HttpMethod Method, string Url, JsonObject Body)> Writes(string marker)
    {
        var artifact = Requests.Artifact(specId: "SPEC-FULL", content: new JsonObject { ["text"] = Payload('a') }.ToJsonString(), runTimestamp: 1764118923456);
        artifact["pipelineRunId"] = marker;
        var item = Requests.Artifact(specId: "SPEC-FULL", stage: "spec-tasks", content: new JsonObject { ["text"] = Payload('b')[..(PayloadBytes / 2)] }.ToJsonString());
        item["pipelineRunId"] = marker;
        var synthesis = Requests.Synthesis(specId: "SPEC-FULL", stage: "spec-validate", runTimestamp: null, outputMarkdown: Payload('c'));
        synthesis["pipelineRunId"] = marker;
        var run = Requests.Run(specId: "SPEC-FULL-" + marker, stage: "spec-audit");
        run["synthesis"] = new JsonObject { ["text"] = Payload('d') };
        yield return ("artifact", HttpMethod.Post, "/api/v1/artifacts", artifact);
        yield return ("batch", HttpMethod.Post, "/api/v1/artifacts/batch", Requests.Batch(item, item.DeepClone().AsObject()));
        yield return ("synthesis", HttpMethod.Post, "/api/v1/synthesis", synthesis);
        yield return ("run", HttpMethod.Put, "/api/v1/runs", run);
    }

    private static long Stored(string path, string marker) => DatabaseFile.Scalar(path, $"""
        SELECT (SELECT count(*) FROM consensus_artifacts WHERE run_id = '{marker}')
             + (SELECT count(*) FROM agent_outputs WHERE pipeline_run_id = '{marker}')
             + (SELECT count(*) FROM consensus_synthesis WHERE run_id = '{marker}')
             + (SELECT count(*) FROM run_syntheses WHERE pipeline_run_id = '{marker}')
             + (SELECT count(*) FROM consensus_runs WHERE spec_id = 'SPEC-FULL-{marker}')
        """);

    [Fact]
    public async Task OnAFullDiskWritesAnswer507ReadsGoOnNothingPartialIsStoredAndWritesResumeOnceSpaceIsFreed()
    {
        var folder = TestDatabase.NewFolder();
        using var disk = Mount.SmallDisk(folder, 12L << 20);
        var path = Path.Combine(folder, "consensus.db");
        var output = TestContext.Current.TestOutputHelper;
        // Room another program took on the same disk, to be given back later.
        var filler = Path.Combine(folder, "filler.bin");
        await File.WriteAllBytesAsync(filler, new byte[4 << 20], Ct);
        // SQLite's automatic checkpoint on the write connection: with the background checkpointer, a
        // write after the first refusal may land in WAL space that a restart freed meanwhile, and
        // succeed, so which kinds meet the full disk would depend on timing.
        await using var service = await RunningService.StartAsync(path, new Dictionary<string, string> { ["Database:WalRestartFrames"] = "0" }, Ct);

        // Fill the disk with acknowledged artifacts until the first 507.
        var acknowledged = new List<long>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            var response = await service.Client.PostJsonAsync("/api/v1/artifacts",
                Requests.Artifact(specId: "SPEC-FULL", agentName: "filler-" + i.ToString(CultureInfo.InvariantCulture), content: new JsonObject { ["text"] = Payload('f') }.ToJsonString()));
            if (response.StatusCode == HttpStatusCode.Created)
            {
                acknowledged.Add((await response.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetInt64());
            }
            else
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.InsufficientStorage);
        output?.WriteLine($"disk full after {acknowledged.Count} artifacts of {PayloadBytes} bytes: {problem.GetProperty("detail")}");
        output?.WriteLine($"file {new FileInfo(path).Length} bytes, WAL {new FileInfo(path + "-wal").Length} bytes");

        foreach (var (kind, method, url, body) in Writes("full"))
        {
            var response = await service.Client.SendJsonAsync(method, url, body.ToJsonString(), idempotencyKey: null);
            await response.AssertProblemAsync(HttpStatusCode.InsufficientStorage);
            output?.WriteLine($"{kind}: 507");
        }

        // Reads go on, the health check included.
        Assert.True(await service.IsReadyAsync(Ct));
        var first = await (await service.Client.GetAsync(new Uri($"/api/v1/artifacts/{acknowledged[0]}", UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal(PayloadBytes, first.GetProperty("content").GetProperty("text").GetString()!.Length);
        var listed = Page(await (await service.Client.GetAsync(new Uri(Requests.ArtifactsOf("SPEC-FULL") + "?limit=500", UriKind.Relative), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items;
        Assert.Equal(acknowledged.Order(), listed.Select(item => item.GetProperty("id").GetInt64()).Order());
        Assert.Equal(0, Stored(path, "full"));

        // Space comes back: writes succeed again, without a restart.
        File.Delete(filler);
        foreach (var (kind, method, url, body) in Writes("freed"))
        {
            var response = await service.Client.SendJsonAsync(method, url, body.ToJsonString(), idempotencyKey: null);
            Assert.True(response.IsSuccessStatusCode, $"{kind} once space was freed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        }

        Assert.Equal(0, Stored(path, "full"));
        Assert.Equal(0, await service.StopAsync(Ct));
        DatabaseFile.AssertConsistent(path);
        Assert.Equal(acknowledged.Count + 3, DatabaseFile.Scalar(path, "SELECT count(*) FROM consensus_artifacts"));
    }
}
