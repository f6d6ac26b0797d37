using ConsensusApi.Client;
using ConsensusApi.Domain.Models;
using ConsensusApi.Tests.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;

namespace ConsensusApi.Tests.Client;

/// <summary>
/// Writes through a network that drops connections after the server stored the request, hangs,
/// and answers 503 and 429: the client retries each write with its Idempotency-Key, the server
/// dedupes, and every write is stored exactly once.
/// </summary>
public sealed class ExactlyOnceTests
{
    private const string Spec = "SPEC-EXACTLY-ONCE";
    private const string ArtifactStage = "spec-implement";
    private const string SynthesisStage = "spec-validate";
    private const long FirstRun = 1_764_118_923_000;

    private static readonly Fault[][] Plans =
    [
        [],
        [Fault.Drop],
        [Fault.Unavailable],
        [Fault.Drop, Fault.Unavailable],
        [Fault.TooManyRequests, Fault.Drop],
        [Fault.Drop, Fault.Drop],
        [Fault.Unavailable, Fault.Unavailable, Fault.Drop],
        [Fault.Hang],
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RetriedWritesThroughAFaultyNetworkAreStoredExactlyOnce()
    {
        const int Artifacts = 24;
        const int Batches = 8;
        const int BatchSize = 3;
        const int Syntheses = 8;
        await using var factory = ConsensusApiFactory.WithKeys();
        var faults = new FaultInjectingHandler(Plans);
        await using var harness = ClientHarness.For(factory, TestKeys.Admin, () => faults, options =>
        {
            // Hang faults end by the attempt timeout; the rest of the attempts answer well within it.
            options.AttemptTimeout = TimeSpan.FromSeconds(2);
            options.Retry.MaxAttempts = 4;
        });
        var client = harness.Client;
        await client.GetReadinessAsync(Ct);

        var writes = new List<Task>();
        for (var i = 0; i < Artifacts; i++)
        {
            writes.Add(client.StoreArtifactAsync(Artifact($"agent-{i:D2}"), cancellationToken: Ct));
        }

        for (var b = 0; b < Batches; b++)
        {
            var items = Enumerable.Range(0, BatchSize).Select(j => Artifact($"batch-{b}-{j}")).ToList();
            writes.Add(client.StoreArtifactBatchAsync(new ArtifactBatchRequest { Items = items }, cancellationToken: Ct));
        }

        for (var s = 0; s < Syntheses; s++)
        {
            writes.Add(client.StoreSynthesisAsync(Synthesis(FirstRun + s), cancellationToken: Ct));
        }

        await Task.WhenAll(writes);

        // Each write exactly once, counted through the API.
        var stored = await client.EnumerateArtifactsAsync(Spec, ArtifactStage, pageSize: 500, cancellationToken: Ct).ToListAsync(Ct);
        var expectedAgents = Enumerable.Range(0, Artifacts).Select(i => $"agent-{i:D2}")
            .Concat(Enumerable.Range(0, Batches).SelectMany(b => Enumerable.Range(0, BatchSize).Select(j => $"batch-{b}-{j}")))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expectedAgents, stored.Select(a => a.AgentName).Order(StringComparer.Ordinal));
        Assert.Equal(Syntheses, (await client.EnumerateRunsAsync(Spec, SynthesisStage, cancellationToken: Ct).ToListAsync(Ct)).Count);
        using (var connection = StorageTestData.OpenRaw(factory.DatabasePath))
        {
            Assert.Equal(Syntheses, connection.ExecuteScalar<long>("SELECT count(*) FROM consensus_synthesis WHERE spec_id = @Spec", new { Spec }));
            Assert.Equal(Syntheses, connection.ExecuteScalar<long>("SELECT count(*) FROM run_syntheses WHERE spec_id = @Spec", new { Spec }));
        }

        var artifactsDeleted = await client.DeleteStageAsync(Spec, ArtifactStage, Ct);
        Assert.Equal(Artifacts + (Batches * BatchSize), artifactsDeleted.DeletedArtifacts);
        Assert.Equal(Artifacts + (Batches * BatchSize), artifactsDeleted.DeletedLegacyArtifacts);
        var synthesesDeleted = await client.DeleteStageAsync(Spec, SynthesisStage, Ct);
        Assert.Equal(Syntheses, synthesesDeleted.DeletedLegacySyntheses);
        Assert.Equal(Syntheses, synthesesDeleted.DeletedRuns);
        Assert.Equal(0, (await client.GetTelemetryAsync(Ct)).DualWrite.Mismatches);

        // The faults really happened: writes were stored and their responses lost, and the server replayed them.
        var calls = Artifacts + Batches + Syntheses;
        var plans = Enumerable.Range(0, calls).Select(call => Plans[call % Plans.Length]).ToList();
        Assert.Equal(calls, faults.Calls);
        // The first lost response of a write is the one that stored it; its final attempt is answered as a replay.
        var lostAfterStoring = plans.Count(plan => plan.Any(f => f is Fault.Drop or Fault.Hang));
        Assert.True(lostAfterStoring > 0);
        Assert.Equal(lostAfterStoring, faults.StoredThenLost);
        Assert.Equal(lostAfterStoring, faults.Replayed);
        Assert.Equal(plans.Sum(plan => plan.Count(f => f is Fault.Unavailable or Fault.TooManyRequests)), faults.Refused);

        // And the client counted every retry and recovered from all of them.
        var telemetry = harness.Telemetry.Snapshot();
        Assert.Equal(plans.Sum(plan => plan.Length), telemetry.Attempts);
        Assert.Equal(plans.Count(plan => plan.Length > 0), telemetry.RetriedOperations);
        Assert.Equal(telemetry.RetriedOperations, telemetry.Recovered);
        Assert.Equal(0, telemetry.Exhausted);
    }

    private static ArtifactRequest Artifact(string agent) => new()
    {
        SpecId = Spec,
        Stage = ArtifactStage,
        AgentName = agent,
        Content = StorageTestData.Json($$"""{"agent":"{{agent}}"}"""),
        RunTimestamp = FirstRun,
    };

    private static SynthesisRequest Synthesis(long runTimestamp) => new()
    {
        SpecId = Spec,
        Stage = SynthesisStage,
        OutputMarkdown = "# Validation",
        Status = "ok",
        ArtifactsCount = 3,
        RunTimestamp = runTimestamp,
    };
}
