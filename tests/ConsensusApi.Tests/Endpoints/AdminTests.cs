using System.Net;
using System.Text.Json;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using static ConsensusApi.Tests.Infrastructure.HttpAssertions;

namespace ConsensusApi.Tests.Endpoints;

public class AdminTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Stores <paramref name="count"/> artifacts of about 16 KiB each for SPEC-BULK, then deletes them, leaving free pages.</summary>
    private static async Task LeaveFreePagesAsync(HttpClient client, int count)
    {
        var content = $"\"{new string('x', 16 * 1024)}\"";
        var batch = Requests.Batch([.. Enumerable.Range(0, count).Select(i => Requests.Artifact(specId: "SPEC-BULK", agentName: $"agent-{i}", content: content))]);
        await (await client.PostJsonAsync("/api/v1/artifacts/batch", batch)).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.DeleteAsync("/api/v1/specs/SPEC-BULK", Ct)).AssertJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task MigrationsShowTheSchemaAtTheLatestVersion()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var migrations = await (await client.GetAsync("/api/v1/admin/migrations", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        var latest = migrations.GetProperty("latestVersion").GetInt32();
        Assert.True(latest >= 1);
        Assert.Equal(latest, migrations.GetProperty("currentVersion").GetInt32());
        Assert.Empty(migrations.GetProperty("pending").EnumerateArray());
        var applied = migrations.GetProperty("applied").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Range(1, latest), applied.Select(migration => migration.GetProperty("version").GetInt32()));
        Assert.All(applied, migration =>
        {
            Assert.False(string.IsNullOrWhiteSpace(migration.GetProperty("name").GetString()));
            AssertIsoUtc(migration.GetProperty("appliedAt"));
        });
        Assert.True(migrations.GetProperty("legacyTablesPresent").GetBoolean());
    }

    [Fact]
    public async Task StorageDescribesTheDatabaseFile()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);

        var storage = await (await client.GetAsync("/api/v1/admin/storage", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(factory.DatabasePath, storage.GetProperty("path").GetString());
        var pageSize = storage.GetProperty("pageSize").GetInt64();
        var pageCount = storage.GetProperty("pageCount").GetInt64();
        Assert.Equal(4096, pageSize);
        Assert.True(pageCount > 0);
        Assert.Equal(pageSize * pageCount, storage.GetProperty("sizeBytes").GetInt64());
        Assert.True(storage.GetProperty("freelistBytes").GetInt64() >= 0);
        Assert.Equal(0, storage.GetProperty("freelistBytes").GetInt64() % pageSize);
        Assert.True(storage.GetProperty("walBytes").GetInt64() >= 0);
        Assert.Equal("wal", storage.GetProperty("journalMode").GetString());
        Assert.Equal("incremental", storage.GetProperty("autoVacuum").GetString());
        Assert.Equal(JsonValueKind.Null, storage.GetProperty("lastVacuum").ValueKind);
        var next = AssertIsoUtc(storage.GetProperty("nextVacuumAt"));
        Assert.InRange(next, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
    }

    [Fact]
    public async Task PragmasListTheEightPragmasAllAsExpected()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Database:BusyTimeoutMs"] = "1234" });
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var pragmas = await (await client.GetAsync("/api/v1/admin/pragmas", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        var items = pragmas.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(
            ["auto_vacuum", "busy_timeout", "cache_size", "foreign_keys", "journal_mode", "mmap_size", "synchronous", "temp_store"],
            items.Select(item => item.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.All(items, item =>
        {
            Assert.False(string.IsNullOrEmpty(item.GetProperty("expected").GetString()));
            Assert.False(string.IsNullOrEmpty(item.GetProperty("actual").GetString()));
            Assert.True(item.GetProperty("ok").GetBoolean(), item.ToString());
        });
        Assert.Equal("1234", items.Single(item => item.GetProperty("name").GetString() == "busy_timeout").GetProperty("actual").GetString());
        Assert.Equal("wal", items.Single(item => item.GetProperty("name").GetString() == "journal_mode").GetProperty("actual").GetString());
    }

    [Fact]
    public async Task AnIncrementalVacuumFreesTheRequestedPagesAndIsShownInStorage()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await LeaveFreePagesAsync(client, 20);

        var response = await client.PostAsync("/api/v1/admin/vacuum?pages=5", content: null, Ct);

        var vacuum = await response.AssertJsonAsync(HttpStatusCode.OK);
        var pageSize = (await (await client.GetAsync("/api/v1/admin/storage", Ct)).AssertJsonAsync(HttpStatusCode.OK)).GetProperty("pageSize").GetInt64();
        Assert.Equal(5, vacuum.GetProperty("pages").GetInt32());
        var sizeBefore = vacuum.GetProperty("sizeBeforeBytes").GetInt64();
        var sizeAfter = vacuum.GetProperty("sizeAfterBytes").GetInt64();
        var freeBefore = vacuum.GetProperty("freelistBeforeBytes").GetInt64();
        var freeAfter = vacuum.GetProperty("freelistAfterBytes").GetInt64();
        Assert.True(freeBefore >= 5 * pageSize, $"Expected free pages before the vacuum: {vacuum}");
        Assert.Equal(5 * pageSize, sizeBefore - sizeAfter);
        Assert.Equal(5 * pageSize, freeBefore - freeAfter);
        Assert.Equal(5 * pageSize, vacuum.GetProperty("reclaimedBytes").GetInt64());
        Assert.True(vacuum.GetProperty("durationMs").GetInt64() >= 0);

        var storage = await (await client.GetAsync("/api/v1/admin/storage", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        var last = storage.GetProperty("lastVacuum");
        Assert.Equal(JsonValueKind.Object, last.ValueKind);
        Assert.Equal(sizeAfter, last.GetProperty("sizeAfterBytes").GetInt64());
        Assert.Equal(5, last.GetProperty("pages").GetInt32());
        Assert.Equal(sizeAfter, storage.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(freeAfter, storage.GetProperty("freelistBytes").GetInt64());
    }

    [Fact]
    public async Task AVacuumWithoutPagesUsesVacuumPages()
    {
        await using var factory = new ConsensusApiFactory(new Dictionary<string, string?> { ["Vacuum:Pages"] = "3" });
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await LeaveFreePagesAsync(client, 10);

        var vacuum = await (await client.PostAsync("/api/v1/admin/vacuum", content: null, Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.Equal(3, vacuum.GetProperty("pages").GetInt32());
        Assert.Equal(vacuum.GetProperty("freelistBeforeBytes").GetInt64() - vacuum.GetProperty("freelistAfterBytes").GetInt64(), vacuum.GetProperty("reclaimedBytes").GetInt64());
    }

    [Fact]
    public async Task AFullVacuumReleasesEveryFreePage()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await LeaveFreePagesAsync(client, 10);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "kept"))).AssertJsonAsync(HttpStatusCode.Created);

        var vacuum = await (await client.PostAsync("/api/v1/admin/vacuum?mode=full", content: null, Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.True(vacuum.GetProperty("freelistBeforeBytes").GetInt64() > 0, vacuum.ToString());
        Assert.Equal(0, vacuum.GetProperty("freelistAfterBytes").GetInt64());
        Assert.True(vacuum.GetProperty("sizeAfterBytes").GetInt64() < vacuum.GetProperty("sizeBeforeBytes").GetInt64());
        Assert.Equal(vacuum.GetProperty("sizeBeforeBytes").GetInt64() - vacuum.GetProperty("sizeAfterBytes").GetInt64(), vacuum.GetProperty("reclaimedBytes").GetInt64());
        var storage = await (await client.GetAsync("/api/v1/admin/storage", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        Assert.Equal("incremental", storage.GetProperty("autoVacuum").GetString());
        Assert.Equal("kept", Assert.Single(Page(await (await client.GetAsync(Requests.ArtifactsOf(), Ct)).AssertJsonAsync(HttpStatusCode.OK)).Items).GetProperty("agentName").GetString());
    }

    [Theory]
    [InlineData("pages=0", "pages")]
    [InlineData("pages=-3", "pages")]
    [InlineData("pages=10000001", "pages")]
    [InlineData("mode=bogus", "mode")]
    [InlineData("mode=FULL", "mode")]
    public async Task AVacuumWithInvalidParametersIs400(string query, string field)
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostAsync("/api/v1/admin/vacuum?" + query, content: null, Ct)).AssertValidationProblemAsync(field);
        Assert.Equal(JsonValueKind.Null, (await (await client.GetAsync("/api/v1/admin/storage", Ct)).AssertJsonAsync(HttpStatusCode.OK)).GetProperty("lastVacuum").ValueKind);
    }

    [Fact]
    public async Task ANonNumericPagesIs400()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        await (await client.PostAsync("/api/v1/admin/vacuum?pages=many", content: null, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ABackupIsASelfContainedCopyInTheBackupFolder()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);
        await (await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch(Requests.Artifact(agentName: "a"), Requests.Artifact(agentName: "b")))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis())).AssertJsonAsync(HttpStatusCode.Created);

        var backup = await (await client.PostAsync("/api/v1/admin/backup", content: null, Ct)).AssertJsonAsync(HttpStatusCode.OK);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact(agentName: "after-the-backup"))).AssertJsonAsync(HttpStatusCode.Created);

        var path = backup.GetProperty("path").GetString()!;
        Assert.Equal(factory.BackupFolder, Path.GetDirectoryName(path));
        Assert.True(File.Exists(path));
        Assert.False(File.Exists(path + "-wal"));
        Assert.Equal(new FileInfo(path).Length, backup.GetProperty("sizeBytes").GetInt64());
        AssertIsoUtc(backup.GetProperty("createdAt"));

        // Standalone: the file alone, moved elsewhere, is a complete database.
        var alone = Path.Combine(factory.Folder, "restore", "restored.db");
        Directory.CreateDirectory(Path.GetDirectoryName(alone)!);
        File.Copy(path, alone);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = alone, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        Assert.Equal("ok", Scalar(connection, "PRAGMA integrity_check"));
        Assert.Equal(2L, Scalar(connection, "SELECT count(*) FROM agent_outputs"));
        Assert.Equal(2L, Scalar(connection, "SELECT count(*) FROM consensus_artifacts"));
        Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM consensus_synthesis"));
        Assert.Equal(0L, Scalar(connection, "SELECT count(*) FROM agent_outputs WHERE agent_name = 'after-the-backup'"));
    }

    [Fact]
    public async Task EachBackupIsANewFile()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var first = await (await client.PostAsync("/api/v1/admin/backup", content: null, Ct)).AssertJsonAsync(HttpStatusCode.OK);
        await Task.Delay(5, Ct);
        var second = await (await client.PostAsync("/api/v1/admin/backup", content: null, Ct)).AssertJsonAsync(HttpStatusCode.OK);

        Assert.NotEqual(first.GetProperty("path").GetString(), second.GetProperty("path").GetString());
        Assert.Equal(2, Directory.GetFiles(factory.BackupFolder).Length);
    }

    [Fact]
    public async Task TelemetryCountsDualWritesRetriesAndThePool()
    {
        await using var factory = new ConsensusApiFactory();
        using var client = factory.CreateClient(TestKeys.Anonymous);

        var idle = await (await client.GetAsync("/api/v1/admin/telemetry", Ct)).AssertJsonAsync(HttpStatusCode.OK);
        AssertSameJson("""{"writes":0,"validated":0,"mismatches":0,"mismatchRate":0}""", idle.GetProperty("dualWrite"));

        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/artifacts", Requests.Artifact())).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/artifacts/batch", Requests.Batch(Requests.Artifact(), Requests.Artifact(), Requests.Artifact()))).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostJsonAsync("/api/v1/synthesis", Requests.Synthesis())).AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PutJsonAsync("/api/v1/runs", Requests.Run())).AssertJsonAsync(HttpStatusCode.OK);

        var telemetry = await (await client.GetAsync("/api/v1/admin/telemetry", Ct)).AssertJsonAsync(HttpStatusCode.OK);

        AssertSameJson("""{"writes":6,"validated":6,"mismatches":0,"mismatchRate":0}""", telemetry.GetProperty("dualWrite"));
        var retry = telemetry.GetProperty("retry");
        Assert.True(retry.GetProperty("operations").GetInt64() >= 5, retry.ToString());
        foreach (var counter in new[] { "retriedOperations", "attempts", "recovered", "exhausted" })
        {
            Assert.Equal(0, retry.GetProperty(counter).GetInt64());
        }

        Assert.Equal(0, retry.GetProperty("retryRate").GetDouble());
        Assert.False(retry.GetProperty("alert").GetBoolean());
        var pool = telemetry.GetProperty("pool");
        Assert.Equal(10, pool.GetProperty("size").GetInt32());
        var inUse = pool.GetProperty("inUse").GetInt32();
        var idleConnections = pool.GetProperty("idle").GetInt32();
        Assert.InRange(inUse, 1, 10);
        Assert.InRange(idleConnections, 0, 10);
        Assert.InRange(inUse + idleConnections, 1, 10);
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
