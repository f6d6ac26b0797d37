using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConsensusApi.Tests.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Processes;

/// <summary>The service binary's operator commands, run as real processes on real files.</summary>
public sealed class OperatorCommandTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<CommandResult> RunAsync(string folder, params string[] arguments) => OperatorCommand.RunAsync(folder, arguments, cancellationToken: Ct);

    /// <summary>A file as the terminal UI left it: three artifacts of one run and two syntheses.</summary>
    private static string LegacyFile(string folder)
    {
        var path = Path.Combine(folder, "consensus.db");
        LegacyDatabase.Create(path, connection => connection.Execute("""
            INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at) VALUES
                ('SPEC-KIT-945', 'spec-plan', 'gemini', '{"plan":["a"]}', 'raw gemini', 'run-1', '2025-10-01 10:00:00'),
                ('SPEC-KIT-945', 'spec-plan', 'claude', '{"plan":["b"]}', 'raw claude', 'run-1', '2025-10-01 10:00:05'),
                ('SPEC-KIT-945', 'spec-plan', 'gpt', '{"plan":["c"]}', NULL, 'run-1', '2025-10-01 10:00:09');
            INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, output_path, status, artifacts_count, run_id, created_at) VALUES
                ('SPEC-KIT-945', 'spec-plan', '# Draft', 'docs/plan.md', 'ok', 3, 'run-1', '2025-10-01 10:01:00'),
                ('SPEC-KIT-945', 'spec-plan', '# Plan', 'docs/plan.md', 'ok', 3, 'run-1', '2025-10-01 10:02:00');
            """));
        return path;
    }

    private static long Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection.ExecuteScalar<long>(sql);
    }

    [Fact]
    public async Task MigrateWritesABackupFirstThenBringsALegacyFileToTheLatestVersion()
    {
        var folder = TestDatabase.NewFolder();
        var path = LegacyFile(folder);

        var migrate = await RunAsync(folder, "migrate", "--db", path);

        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        var backup = Assert.Single(Directory.GetFiles(folder, "consensus.db.v0-*.bak"));
        Assert.Matches(@"consensus\.db\.v0-\d{8}T\d{6}Z\.bak$", backup);
        Assert.Contains($"Backup: {backup}", migrate.Output, StringComparison.Ordinal);
        Assert.Equal(0, Scalar(backup, "PRAGMA user_version"));
        Assert.Equal(3, Scalar(backup, "SELECT count(*) FROM consensus_artifacts"));
        Assert.Equal(0, Scalar(backup, "SELECT count(*) FROM sqlite_master WHERE name = 'agent_outputs'"));
        Assert.Contains("Applied: 1 (normalized schema)", migrate.Output, StringComparison.Ordinal);
        Assert.Contains("Applied: 3 (backfill legacy rows)", migrate.Output, StringComparison.Ordinal);
        Assert.Contains("Schema version 4; legacy rows without a normalized twin: 0.", migrate.Output, StringComparison.Ordinal);
        Assert.Equal(4, Scalar(path, "PRAGMA user_version"));
        Assert.Equal(3, Scalar(path, "SELECT count(*) FROM agent_outputs"));
        Assert.Equal(2, Scalar(path, "SELECT count(*) FROM run_syntheses"));

        var again = await RunAsync(folder, "migrate", "--db", path);

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("Nothing to migrate", again.Output, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(folder, "*.bak"));
    }

    [Fact]
    public async Task VerifyPassesOnAMigratedFileAndFailsNamingACorruptedTwin()
    {
        var folder = TestDatabase.NewFolder();
        var path = LegacyFile(folder);
        var before = await RunAsync(folder, "verify", "--db", path);
        Assert.True(before.ExitCode == 1, before.ToString());
        Assert.Contains("run migrate", before.Output, StringComparison.Ordinal);
        Assert.True((await RunAsync(folder, "migrate", "--db", path)).ExitCode == 0);

        var verify = await RunAsync(folder, "verify", "--db", path, "--progress-every", "2");

        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("Compared 3 artifacts and 2 syntheses with their twins.", verify.Output, StringComparison.Ordinal);
        Assert.Contains("  artifacts: 2/3", verify.Output, StringComparison.Ordinal);
        Assert.Contains("verify: OK", verify.Output, StringComparison.Ordinal);
        // The terminal UI's file was created without incremental auto-vacuum: worth a warning, not a failure.
        Assert.Contains("warning [pragmas] auto_vacuum", verify.Output, StringComparison.Ordinal);

        using (var connection = StorageTestData.OpenRaw(path))
        {
            connection.Execute("UPDATE agent_outputs SET content = 'x' WHERE id = 2");
        }

        var corrupted = await RunAsync(folder, "verify", "--db", path);

        Assert.True(corrupted.ExitCode == 1, corrupted.ToString());
        Assert.Contains("PROBLEM [dual_write] artifact 2: content differs", corrupted.Output, StringComparison.Ordinal);
        Assert.Contains("verify: FAILED: 1 problem(s)", corrupted.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VacuumBackupAndStatsWorkOnAServedFile()
    {
        var folder = TestDatabase.NewFolder();
        var path = LegacyFile(folder);
        var tooEarly = await RunAsync(folder, "vacuum", "--db", path);
        Assert.True(tooEarly.ExitCode == 1, tooEarly.ToString());
        Assert.Contains("run migrate first", tooEarly.Error, StringComparison.Ordinal);
        Assert.True((await RunAsync(folder, "migrate", "--db", path)).ExitCode == 0);

        var full = await RunAsync(folder, "vacuum", "--db", path, "--full");
        Assert.True(full.ExitCode == 0, full.ToString());
        Assert.Contains("Size before:", full.Output, StringComparison.Ordinal);
        Assert.Contains("Size after:", full.Output, StringComparison.Ordinal);
        Assert.Contains("auto_vacuum:     incremental", full.Output, StringComparison.Ordinal);
        var incremental = await RunAsync(folder, "vacuum", "--db", path, "--pages", "5");
        Assert.True(incremental.ExitCode == 0, incremental.ToString());
        Assert.Contains("Reclaimed:", incremental.Output, StringComparison.Ordinal);

        var target = Path.Combine(folder, "copies", "nightly.db");
        var backup = await RunAsync(folder, "backup", "--db", path, target);
        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.Equal(4, Scalar(target, "PRAGMA user_version"));
        Assert.Equal(3, Scalar(target, "SELECT count(*) FROM agent_outputs"));
        Assert.False(File.Exists(target + "-wal"));
        var again = await RunAsync(folder, "backup", "--db", path, target);
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains("already exists", again.Error, StringComparison.Ordinal);

        var stats = await RunAsync(folder, "stats", "--db", path);
        Assert.True(stats.ExitCode == 0, stats.ToString());
        Assert.Contains("Schema version:  4 (latest 4)", stats.Output, StringComparison.Ordinal);
        Assert.Contains("auto_vacuum:     incremental", stats.Output, StringComparison.Ordinal);
        Assert.Matches(@"agent_outputs\s+3\r?\n", stats.Output);
        Assert.Matches(@"consensus_synthesis\s+2\r?\n", stats.Output);
        Assert.Contains("WAL size:", stats.Output, StringComparison.Ordinal);
        Assert.Contains("Page size:", stats.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandsReadTheServicesConfigurationAndTheEnvironment()
    {
        var folder = TestDatabase.NewFolder();

        // appsettings.json beside the binary says data/consensus_artifacts.db, relative to the working directory.
        var missing = await RunAsync(folder, "stats");
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains($"There is no database at '{Path.Combine(folder, "data", "consensus_artifacts.db")}'", missing.Error, StringComparison.Ordinal);

        var path = LegacyFile(folder);
        var fromEnvironment = await OperatorCommand.RunAsync(folder, ["stats"], new Dictionary<string, string> { ["Database__Path"] = path }, Ct);
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.Contains($"Database:        {path}", fromEnvironment.Output, StringComparison.Ordinal);

        var invalid = await OperatorCommand.RunAsync(folder, ["stats", "--db", path], new Dictionary<string, string> { ["Database__PoolSize"] = "0" }, Ct);
        Assert.True(invalid.ExitCode == 1, invalid.ToString());
        Assert.Contains("Database:PoolSize", invalid.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", invalid.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vacuum", "--pages", "0")]
    [InlineData("vacuum", "--full", "--pages", "5")]
    [InlineData("backup")]
    [InlineData("verfy")]
    [InlineData("stats", "--unknown")]
    public async Task WrongUsageExitsWithTwo(params string[] arguments)
    {
        var result = await RunAsync(TestDatabase.NewFolder(), arguments);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--help", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("migrate", "--help")]
    [InlineData("verify", "--help")]
    [InlineData("vacuum", "--help")]
    [InlineData("backup", "--help")]
    [InlineData("stats", "-h")]
    public async Task HelpDescribesTheToolAndEachCommand(params string[] arguments)
    {
        var result = await RunAsync(TestDatabase.NewFolder(), arguments);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Output, StringComparison.Ordinal);
        if (arguments.Length == 1)
        {
            Assert.All(new[] { "migrate", "verify", "vacuum", "backup", "stats" }, command => Assert.Contains(command, result.Output, StringComparison.Ordinal));
        }
        else
        {
            Assert.Contains("--db <PATH>", result.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BackupTakenWhileTheServiceRunsRestoresAndServes()
    {
        var folder = TestDatabase.NewFolder();
        var live = Path.Combine(folder, "live", "consensus.db");
        long id;
        await using (var service = ServiceProcess.Start(folder, new Dictionary<string, string> { ["Database__Path"] = live }))
        {
            Assert.True(await service.WaitUntilReadyAsync(StartTimeout, Ct), service.Output);
            using var client = new HttpClient { BaseAddress = service.BaseAddress };
            using var stored = await client.PostAsJsonAsync(
                new Uri("/api/v1/artifacts", UriKind.Relative),
                new JsonObject { ["specId"] = "SPEC-RESTORE", ["stage"] = "spec-plan", ["agentName"] = "gemini", ["content"] = new JsonObject { ["plan"] = "restore me" } },
                Ct);
            Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
            id = (await stored.Content.ReadFromJsonAsync<JsonObject>(Ct))!["id"]!.GetValue<long>();

            // Online: the service keeps the file open while the command copies it.
            var backup = await RunAsync(folder, "backup", "--db", live, Path.Combine(folder, "backups", "before-upgrade.db"));
            Assert.True(backup.ExitCode == 0, backup.ToString());
            service.Terminate();
            await service.WaitForExitAsync(StartTimeout, Ct);
        }

        // Restore: copy the backup to the path the service will serve (here a fresh one), then start it.
        var restored = Path.Combine(folder, "restored", "consensus.db");
        Directory.CreateDirectory(Path.GetDirectoryName(restored)!);
        File.Copy(Path.Combine(folder, "backups", "before-upgrade.db"), restored);
        var verify = await RunAsync(folder, "verify", "--db", restored);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        await using (var service = ServiceProcess.Start(folder, new Dictionary<string, string> { ["Database__Path"] = restored }))
        {
            Assert.True(await service.WaitUntilReadyAsync(StartTimeout, Ct), service.Output);
            using var client = new HttpClient { BaseAddress = service.BaseAddress };
            var artifact = await client.GetFromJsonAsync<JsonObject>(new Uri($"/api/v1/artifacts/{id}", UriKind.Relative), Ct);
            Assert.Equal("restore me", artifact!["content"]!["plan"]!.GetValue<string>());
        }
    }
}
