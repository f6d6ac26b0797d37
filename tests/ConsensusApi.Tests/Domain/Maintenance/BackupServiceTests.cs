using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static ConsensusApi.Tests.Domain.Maintenance.MaintenanceTestData;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Maintenance;

public class BackupServiceTests
{
    private static readonly string[] Tables =
    [
        "consensus_artifacts", "consensus_synthesis", "agent_outputs", "consensus_runs", "run_syntheses", "spec_stages", "specs",
        "idempotency_keys", "schema_migrations",
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BackupIsAStandaloneDatabaseInTheBackupFolderWithTheSameRows()
    {
        var clock = new FakeTimeProvider(Start);
        await using var db = await TestDatabase.OpenAsync(timeProvider: clock);
        await FillAsync(db, "SPEC-A", 300, 500, Ct);
        await db.Get<SynthesisRepository>().StoreAsync(Synthesis("SPEC-A", runTimestamp: 1000), new IdempotencyKey("k-1", "f-1"), Ct);
        await db.Get<RunRepository>().UpsertAsync(new RunUpsertRequest { SpecId = "SPEC-B", Stage = "spec-tasks", RunTimestamp = 5, ConsensusOk = true }, null, Ct);

        var backup = await db.Get<BackupService>().BackupAsync(Ct);

        var folder = Path.Combine(db.Folder, "backups");
        Assert.Equal(Path.Combine(folder, "consensus-20261126T010203456Z.db"), backup.Path);
        Assert.Equal([backup.Path], Directory.GetFiles(folder));
        Assert.Equal(new FileInfo(backup.Path).Length, backup.SizeBytes);
        Assert.Equal(Start, backup.CreatedAt);

        var copy = CopyAlone(backup.Path);
        try
        {
            Assert.Equal("ok", IntegrityCheck(copy));
            foreach (var table in Tables)
            {
                Assert.Equal(Count(db.Path, table), Count(copy, table));
            }

            Assert.Equal(Scalar(db.Path, "PRAGMA user_version"), Scalar(copy, "PRAGMA user_version"));

            // The service itself can serve the restored file.
            await using var restored = await TestDatabase.OpenAsync(path: copy);
            var specs = await restored.Get<SpecRepository>().ListAsync(new PageRequest(), Ct);
            Assert.Equal((await db.Get<SpecRepository>().ListAsync(new PageRequest(), Ct)).Items, specs.Items, SpecsEqual);
        }
        finally
        {
            DeleteFolderOf(copy);
        }
    }

    [Fact]
    public async Task BackupTakenWhileWritesContinueIsConsistent()
    {
        await using var db = await TestDatabase.OpenAsync();
        await FillAsync(db, "SPEC-SEED", 1500, 2000, Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var written = 0;
        var writer = Task.Run(async () =>
        {
            var artifacts = db.Get<ArtifactRepository>();
            var syntheses = db.Get<SynthesisRepository>();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await artifacts.StoreAsync(Artifact("SPEC-LIVE", agentName: $"agent-{i % 3}", runTimestamp: 1000 + (i / 3)), null, Ct);
                if (i % 3 == 2)
                {
                    await syntheses.StoreAsync(Synthesis("SPEC-LIVE", runTimestamp: 1000 + (i / 3)), null, Ct);
                }

                Interlocked.Increment(ref written);
            }
        }, Ct);
        await EventuallyAsync(() => Volatile.Read(ref written) >= 20);

        var before = Count(db.Path, "agent_outputs");
        var backup = await db.Get<BackupService>().BackupAsync(Ct);
        var after = Count(db.Path, "agent_outputs");
        var writtenAtBackup = Volatile.Read(ref written);
        await EventuallyAsync(() => Volatile.Read(ref written) >= writtenAtBackup + 20);
        await stop.CancelAsync();
        await writer;

        var copy = CopyAlone(backup.Path);
        try
        {
            Assert.Equal("ok", IntegrityCheck(copy));
            var outputs = Count(copy, "agent_outputs");
            Assert.InRange(outputs, before, after);
            Assert.True(Count(db.Path, "agent_outputs") > outputs, "writes went on while the backup ran");

            // One snapshot: every dual-write is in both schemas, and the summaries match the rows.
            Assert.Equal(outputs, Count(copy, "consensus_artifacts"));
            Assert.Equal(Count(copy, "run_syntheses"), Count(copy, "consensus_synthesis"));
            Assert.Equal(0, Scalar(copy, "SELECT count(*) FROM agent_outputs o WHERE NOT EXISTS (SELECT 1 FROM consensus_artifacts l WHERE l.id = o.id)"));
            Assert.Equal(0, Scalar(copy, "SELECT count(*) FROM run_syntheses s WHERE NOT EXISTS (SELECT 1 FROM consensus_synthesis l WHERE l.id = s.id)"));
            Assert.Equal(outputs, Scalar(copy, "SELECT sum(artifact_count) FROM specs"));
            Assert.Equal(Count(copy, "consensus_runs"), Scalar(copy, "SELECT sum(run_count) FROM specs"));
            Assert.Equal(0, Scalar(copy, "SELECT count(*) FROM agent_outputs o WHERE NOT EXISTS (SELECT 1 FROM consensus_runs r WHERE r.id = o.run_id)"));
        }
        finally
        {
            DeleteFolderOf(copy);
        }
    }

    [Fact]
    public async Task BackupToAnExistingFileIsRefusedAndLeavesItAlone()
    {
        await using var db = await TestDatabase.OpenAsync();
        await FillAsync(db, "SPEC-A", 10, 100, Ct);
        var target = Path.Combine(db.Folder, "existing.db");
        await File.WriteAllTextAsync(target, "not to be overwritten", Ct);

        var error = await Assert.ThrowsAsync<IOException>(async () => await db.Get<BackupService>().BackupToAsync(target, Ct));

        Assert.Contains(target, error.Message, StringComparison.Ordinal);
        Assert.Equal("not to be overwritten", await File.ReadAllTextAsync(target, Ct));
        Assert.False(File.Exists(target + ".partial"));
    }

    [Fact]
    public async Task BackupToANewFolderCreatesIt()
    {
        await using var db = await TestDatabase.OpenAsync();
        await FillAsync(db, "SPEC-A", 10, 100, Ct);
        var target = Path.Combine(db.Folder, "nested", "deeper", "copy.db");

        var backup = await db.Get<BackupService>().BackupToAsync(target, Ct);

        Assert.Equal(target, backup.Path);
        Assert.Equal(10, Count(target, "agent_outputs"));
        Assert.Equal([target], Directory.GetFiles(Path.GetDirectoryName(target)!).Where(file => !file.EndsWith("-wal", StringComparison.Ordinal) && !file.EndsWith("-shm", StringComparison.Ordinal)));
    }

    /// <summary>Copies only the backup file (no -wal, no -shm) into a folder of its own.</summary>
    private static string CopyAlone(string backup)
    {
        var copy = Path.Combine(TestDatabase.NewFolder(), "restored.db");
        File.Copy(backup, copy);
        return copy;
    }

    private static void DeleteFolderOf(string path)
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleanup.
        }
    }

    private static bool SpecsEqual(SpecSummary expected, SpecSummary actual) =>
        expected.SpecId == actual.SpecId && expected.Stages.SequenceEqual(actual.Stages) && expected.RunCount == actual.RunCount
        && expected.ArtifactCount == actual.ArtifactCount && expected.LastActivityAt == actual.LastActivityAt;

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        guard.CancelAfter(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(5, guard.Token);
        }
    }
}
