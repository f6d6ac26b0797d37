using System.Text.Json;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class IdempotencyStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IdempotencyKey Key(string fingerprint = "sha256:aaaa") => new("client-key-1", fingerprint);

    private static (long Legacy, long Normalized, long Keys) Rows(TestDatabase db)
    {
        using var reader = SqliteFiles.OpenRaw(db.Path);
        return (SqliteFiles.Count(reader, "consensus_artifacts"), SqliteFiles.Count(reader, "agent_outputs"), SqliteFiles.Count(reader, "idempotency_keys"));
    }

    private static void AssertSameArtifact(Artifact expected, Artifact actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.RunId, actual.RunId);
        Assert.Equal(expected.RunTimestamp, actual.RunTimestamp);
        Assert.Equal(expected.SpecId, actual.SpecId);
        Assert.Equal(expected.Stage, actual.Stage);
        Assert.Equal(expected.AgentName, actual.AgentName);
        Assert.Equal(expected.ModelVersion, actual.ModelVersion);
        Assert.Equal(expected.ResponseText, actual.ResponseText);
        Assert.Equal(expected.PipelineRunId, actual.PipelineRunId);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.True(JsonElement.DeepEquals(expected.Content, actual.Content));
    }

    [Fact]
    public async Task SameKeyAndFingerprintTwiceStoresOnceAndReplaysTheFirstOutcome()
    {
        var time = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: time);
        var repository = db.Get<ArtifactRepository>();

        var first = await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct);
        time.Advance(TimeSpan.FromMinutes(10));
        var second = await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct);

        Assert.Equal((true, false), (first.Created, first.Replayed));
        Assert.Equal((true, true), (second.Created, second.Replayed));
        AssertSameArtifact(first.Value, second.Value);
        Assert.Equal(Start, second.Value.CreatedAt);
        Assert.Equal((1L, 1L, 1L), Rows(db));
        Assert.Equal(new DualWriteSnapshot(1, 1, 0), db.Get<DualWriteTelemetry>().Snapshot()); // a replay writes nothing
    }

    [Fact]
    public async Task SameKeyWithADifferentFingerprintIsAConflictAndWritesNothing()
    {
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start));
        var repository = db.Get<ArtifactRepository>();
        await repository.StoreAsync(SqliteFiles.Artifact(n: 1), Key("sha256:first"), Ct);

        var error = await Assert.ThrowsAsync<ConflictException>(async () =>
            await repository.StoreAsync(SqliteFiles.Artifact(n: 2), Key("sha256:second"), Ct));

        Assert.Contains("client-key-1", error.Message, StringComparison.Ordinal);
        Assert.Equal((1L, 1L, 1L), Rows(db));
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal("sha256:first", reader.ExecuteScalar<string>("SELECT fingerprint FROM idempotency_keys"));
    }

    [Fact]
    public async Task KeyOlderThanTwentyFourHoursIsForgottenAndTheWriteHappensAgain()
    {
        var time = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: time);
        var repository = db.Get<ArtifactRepository>();
        var first = await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct);

        time.Advance(TimeSpan.FromHours(25));
        var second = await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct);

        Assert.False(second.Replayed);
        Assert.NotEqual(first.Value.Id, second.Value.Id);
        Assert.Equal(Start.AddHours(25), second.Value.CreatedAt);
        Assert.Equal((2L, 2L, 1L), Rows(db));
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(Start.AddHours(25).ToUnixTimeMilliseconds(), reader.ExecuteScalar<long>("SELECT created_at FROM idempotency_keys"));
    }

    [Fact]
    public async Task KeyYoungerThanTwentyFourHoursIsStillReplayed()
    {
        var time = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: time);
        var repository = db.Get<ArtifactRepository>();
        var first = await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct);

        time.Advance(TimeSpan.FromHours(23));
        var second = await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct);

        Assert.True(second.Replayed);
        Assert.Equal(first.Value.Id, second.Value.Id);
        Assert.Equal((1L, 1L, 1L), Rows(db));
    }

    [Fact]
    public async Task KeyRowIsWrittenInTheSameTransactionAsTheWriteItGuards()
    {
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start));
        var now = Start.ToUnixTimeMilliseconds();
        var sawKeyInside = false;

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.Database.Writes.ExecuteAsync<long>((connection, _) =>
        {
            var artifact = ArtifactRepository.Insert(connection, SqliteFiles.Artifact(), now, []);
            IdempotencyStore.Save(connection, Key(), artifact, created: true, now);
            sawKeyInside = SqliteFiles.Count(connection, "idempotency_keys") == 1;
            throw new InvalidOperationException("failed after the guarded write");
        }, Ct));

        Assert.True(sawKeyInside);
        Assert.Equal((0L, 0L, 0L), Rows(db));
    }

    [Fact]
    public async Task FailedGuardedWriteLeavesNoKeySoTheSameKeyCanBeRetried()
    {
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start));
        var repository = db.Get<ArtifactRepository>();
        await db.Database.Writes.ExecuteAsync((connection, _) => connection.Execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON agent_outputs BEGIN SELECT RAISE(ABORT, 'refused'); END"), Ct);

        await Assert.ThrowsAsync<SqliteException>(async () => await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct));
        var afterFailure = Rows(db);
        await db.Database.Writes.ExecuteAsync((connection, _) => connection.Execute("DROP TRIGGER refuse"), Ct);
        var retried = await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct);

        Assert.Equal((0L, 0L, 0L), afterFailure);
        Assert.Equal((true, false), (retried.Created, retried.Replayed));
        Assert.Equal((1L, 1L, 1L), Rows(db));
    }

    [Fact]
    public async Task ConcurrentRequestsWithTheSameKeyStoreOnce()
    {
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start));
        var repository = db.Get<ArtifactRepository>();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(_ => Task.Run(async () => await repository.StoreAsync(SqliteFiles.Artifact(), Key(), Ct), Ct)));

        Assert.Single(outcomes, outcome => !outcome.Replayed);
        Assert.Single(outcomes.Select(outcome => outcome.Value.Id).Distinct());
        Assert.Equal((1L, 1L, 1L), Rows(db));
    }

    [Fact]
    public async Task SynthesisReplayReturnsTheStoredSynthesis()
    {
        await using var db = await TestDatabase.OpenAsync(timeProvider: new FakeTimeProvider(Start));
        var repository = db.Get<SynthesisRepository>();
        var request = new SynthesisRequest
        {
            SpecId = "SPEC-KIT-945", Stage = "spec-plan", OutputMarkdown = "# ok", Status = "ok", ArtifactsCount = 3, Degraded = true, RunTimestamp = 1_767_000_000_000,
        };

        var first = await repository.StoreAsync(request, Key(), Ct);
        var second = await repository.StoreAsync(request, Key(), Ct);

        Assert.True(second.Replayed);
        Assert.Equal(first.Value, second.Value);
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(1L, SqliteFiles.Count(reader, "consensus_synthesis"));
        Assert.Equal(1L, SqliteFiles.Count(reader, "run_syntheses"));
    }

    [Fact]
    public async Task PurgeForgetsOnlyKeysOlderThanTheRetention()
    {
        var time = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: time);
        var repository = db.Get<ArtifactRepository>();
        await repository.StoreAsync(SqliteFiles.Artifact(n: 1), new IdempotencyKey("old", "f1"), Ct);
        time.Advance(TimeSpan.FromHours(20));
        await repository.StoreAsync(SqliteFiles.Artifact(n: 2), new IdempotencyKey("recent", "f2"), Ct);
        time.Advance(TimeSpan.FromHours(5));

        var purged = await db.Database.Writes.ExecuteAsync((connection, _) => IdempotencyStore.Purge(connection, time.GetUtcNow().ToUnixTimeMilliseconds()), Ct);

        Assert.Equal(1, purged);
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(new[] { "recent" }, reader.Query<string>("SELECT key FROM idempotency_keys"));
        Assert.Equal(2L, SqliteFiles.Count(reader, "agent_outputs"));
    }
}
