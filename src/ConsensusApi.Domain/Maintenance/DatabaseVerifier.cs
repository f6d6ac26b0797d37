using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Storage.Migrations;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Maintenance;

/// <summary>How serious a verification finding is.</summary>
public enum FindingSeverity
{
    /// <summary>The file is not fit to serve as it is; <c>verify</c> fails.</summary>
    Problem,

    /// <summary>Worth knowing, not wrong (e.g. a file still without incremental auto-vacuum).</summary>
    Warning,
}

/// <summary>One thing verification found.</summary>
/// <param name="Severity">Problem or warning.</param>
/// <param name="Check">The check that found it: <c>pragmas</c>, <c>schema</c>, <c>integrity</c>, <c>foreign_keys</c>, <c>dual_write</c>.</param>
/// <param name="Message">What, naming the row where there is one.</param>
public sealed record VerificationFinding(FindingSeverity Severity, string Check, string Message);

/// <summary>Where a long verification stands.</summary>
/// <param name="Phase">What is being checked, e.g. <c>artifacts</c>.</param>
/// <param name="Done">Rows checked so far in this phase.</param>
/// <param name="Total">Rows to check in this phase.</param>
public sealed record VerificationProgress(string Phase, long Done, long Total);

/// <summary>The outcome of <see cref="DatabaseVerifier.Verify"/>.</summary>
public sealed record VerificationReport
{
    /// <summary>Full path of the file.</summary>
    public required string Path { get; init; }

    /// <summary>Its schema version.</summary>
    public required int SchemaVersion { get; init; }

    /// <summary>The newest version this application knows.</summary>
    public required int LatestVersion { get; init; }

    /// <summary>The eight pragmas as a connection configured like the service's has them (empty when not checked).</summary>
    public required IReadOnlyList<PragmaCheck> Pragmas { get; init; }

    /// <summary>Legacy artifacts compared with their normalized twins.</summary>
    public required long ArtifactsChecked { get; init; }

    /// <summary>Legacy syntheses compared with their normalized twins.</summary>
    public required long SynthesesChecked { get; init; }

    /// <summary>Every finding, in the order found.</summary>
    public required IReadOnlyList<VerificationFinding> Findings { get; init; }

    /// <summary>True when no finding is a <see cref="FindingSeverity.Problem"/>.</summary>
    public bool Ok => Findings.All(finding => finding.Severity != FindingSeverity.Problem);
}

/// <summary>
/// Checks a database file the way an operator would before trusting it: pragmas, schema version,
/// <c>PRAGMA integrity_check</c>, <c>PRAGMA foreign_key_check</c>, and that every legacy artifact and
/// synthesis has a normalized twin that agrees with it (and every normalized row a legacy twin).
/// Changes nothing in the file.
/// </summary>
public static class DatabaseVerifier
{
    /// <summary>What <see cref="DualWriteValidator.CheckSynthesis"/> reports when only the run's synthesis_json differs.</summary>
    internal const string RunSynthesisJsonDiffers = "run synthesis_json differs";

    /// <summary>Verifies the file at <paramref name="path"/>.</summary>
    /// <param name="path">The database file; it must exist.</param>
    /// <param name="options">The service's database settings (expected pragma values).</param>
    /// <param name="progress">Told where a long check stands, every <paramref name="progressEvery"/> rows.</param>
    /// <param name="progressEvery">Rows between progress reports.</param>
    /// <param name="cancellationToken">Stops between rows.</param>
    /// <returns>The findings and counts.</returns>
    public static VerificationReport Verify(
        string path, DatabaseOptions options, IProgress<VerificationProgress>? progress, int progressEvery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(progressEvery, 1);
        var full = System.IO.Path.GetFullPath(path);
        var findings = new List<VerificationFinding>();

        using var readOnly = DatabaseFile.OpenForReading(full);
        var version = MigrationRunner.GetSchemaVersion(readOnly);
        var journalMode = readOnly.ExecuteScalar<string>("PRAGMA journal_mode") ?? "";

        IReadOnlyList<PragmaCheck> pragmas = [];
        SqliteConnection? configured = null;
        try
        {
            if (string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                // Configured as the service configures its connections. The file is in WAL mode
                // already, so applying the pragmas changes nothing in it.
                configured = SqliteConnections.Open(full, options);
                pragmas = Storage.Pragmas.Check(configured, options);
                foreach (var check in pragmas.Where(check => !check.Ok))
                {
                    findings.Add(check.Name == "auto_vacuum"
                        ? new(FindingSeverity.Warning, "pragmas", $"auto_vacuum is {check.Actual}, expected {check.Expected}: the file was created without incremental auto-vacuum; run one full vacuum (vacuum --full) to switch it.")
                        : new(FindingSeverity.Problem, "pragmas", $"PRAGMA {check.Name} is {check.Actual}, expected {check.Expected}."));
                }
            }
            else
            {
                // A legacy file, or a copy such as a backup: the service switches it to WAL when it opens
                // it, and the per-connection pragmas can only be checked then. Not a fault in itself.
                findings.Add(new(FindingSeverity.Warning, "pragmas", $"journal_mode is {journalMode}, not wal: the service switches the file to WAL when it opens it; the connection pragmas were not checked."));
            }

            var connection = configured ?? readOnly;
            CheckSchema(version, full, findings);
            CheckIntegrity(connection, findings, progress, cancellationToken);
            var tables = connection.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table'").ToHashSet(StringComparer.Ordinal);
            long artifacts = 0;
            long syntheses = 0;
            if (version >= 2 && tables.IsSupersetOf(["consensus_artifacts", "consensus_synthesis", "agent_outputs", "run_syntheses", "consensus_runs"]))
            {
                artifacts = CheckArtifacts(connection, findings, progress, progressEvery, cancellationToken);
                syntheses = CheckSyntheses(connection, findings, progress, progressEvery, cancellationToken);
            }
            else
            {
                findings.Add(new(FindingSeverity.Warning, "dual_write", $"Dual-write consistency not checked: schema version {version} has no normalized twins yet."));
            }

            return new VerificationReport
            {
                Path = full,
                SchemaVersion = version,
                LatestVersion = MigrationRunner.LatestVersion,
                Pragmas = pragmas,
                ArtifactsChecked = artifacts,
                SynthesesChecked = syntheses,
                Findings = findings,
            };
        }
        finally
        {
            configured?.Dispose();
        }
    }

    private static void CheckSchema(int version, string path, List<VerificationFinding> findings)
    {
        if (version > MigrationRunner.LatestVersion)
        {
            findings.Add(new(FindingSeverity.Problem, "schema", $"Schema version {version} is newer than this application's {MigrationRunner.LatestVersion}: '{path}' needs a newer ConsensusApi."));
        }
        else if (version < MigrationRunner.LatestVersion)
        {
            findings.Add(new(FindingSeverity.Problem, "schema", $"Schema version {version}, latest {MigrationRunner.LatestVersion}: run migrate."));
        }
    }

    private static void CheckIntegrity(SqliteConnection connection, List<VerificationFinding> findings, IProgress<VerificationProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new VerificationProgress("integrity_check", 0, 1));
        var integrity = connection.Query<string>("PRAGMA integrity_check").ToList();
        if (integrity is not ["ok"])
        {
            findings.AddRange(integrity.Select(line => new VerificationFinding(FindingSeverity.Problem, "integrity", line)));
        }

        cancellationToken.ThrowIfCancellationRequested();
        progress?.Report(new VerificationProgress("foreign_key_check", 0, 1));
        foreach (var row in connection.Query<ForeignKeyViolation>("SELECT \"table\" AS TableName, rowid AS RowId, parent AS Parent, fkid AS ForeignKeyId FROM pragma_foreign_key_check"))
        {
            findings.Add(new(FindingSeverity.Problem, "foreign_keys", $"{row.TableName} row {row.RowId} refers to a missing row of {row.Parent}."));
        }
    }

    private static long CheckArtifacts(
        SqliteConnection connection, List<VerificationFinding> findings, IProgress<VerificationProgress>? progress, int progressEvery, CancellationToken cancellationToken)
    {
        var ids = connection.Query<long>("SELECT id FROM consensus_artifacts ORDER BY id").AsList();
        for (var i = 0; i < ids.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i % progressEvery == 0)
            {
                progress?.Report(new VerificationProgress("artifacts", i, ids.Count));
            }

            var check = DualWriteValidator.CheckArtifact(connection, ids[i]);
            if (check.Difference is { } difference)
            {
                findings.Add(new(FindingSeverity.Problem, "dual_write", $"artifact {ids[i]}: {difference} (consensus_artifacts against agent_outputs)."));
            }
        }

        progress?.Report(new VerificationProgress("artifacts", ids.Count, ids.Count));
        foreach (var orphan in connection.Query<long>("SELECT o.id FROM agent_outputs o WHERE NOT EXISTS (SELECT 1 FROM consensus_artifacts l WHERE l.id = o.id) ORDER BY o.id"))
        {
            findings.Add(new(FindingSeverity.Problem, "dual_write", $"artifact {orphan}: agent_outputs row has no legacy twin in consensus_artifacts."));
        }

        return ids.Count;
    }

    private static long CheckSyntheses(
        SqliteConnection connection, List<VerificationFinding> findings, IProgress<VerificationProgress>? progress, int progressEvery, CancellationToken cancellationToken)
    {
        // A run's synthesis_json holds only its latest synthesis (by created_at, then id), so only
        // that one is compared with it. A run whose synthesis_json was replaced through
        // PUT /api/v1/runs with an object of another shape is noted, not failed.
        var rows = connection.Query<SynthesisRow>("""
            SELECT l.id AS Id, s.run_id AS RunId,
                   s.id IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM run_syntheses t WHERE t.run_id = s.run_id AND (t.created_at, t.id) > (s.created_at, s.id)) AS Latest,
                   r.synthesis_json IS NOT NULL AND (json_valid(r.synthesis_json) = 0
                       OR json_type(r.synthesis_json, '$.output_markdown') IS NULL) AS RunJsonReplaced
            FROM consensus_synthesis l
            LEFT JOIN run_syntheses s ON s.id = l.id
            LEFT JOIN consensus_runs r ON r.id = s.run_id
            ORDER BY l.id
            """).AsList();
        for (var i = 0; i < rows.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i % progressEvery == 0)
            {
                progress?.Report(new VerificationProgress("syntheses", i, rows.Count));
            }

            var row = rows[i];
            var check = DualWriteValidator.CheckSynthesis(connection, row.Id);
            switch (check.Difference)
            {
                case null:
                    break;

                // The comparison reports the first field that differs and compares synthesis_json
                // last, so here every column of the two rows agreed.
                case RunSynthesisJsonDiffers when !row.Latest:
                    break;
                case RunSynthesisJsonDiffers when row.RunJsonReplaced:
                    findings.Add(new(FindingSeverity.Warning, "dual_write", $"synthesis {row.Id}: run {row.RunId}'s synthesis_json was replaced by PUT /api/v1/runs; not compared."));
                    break;
                case { } difference:
                    findings.Add(new(FindingSeverity.Problem, "dual_write", $"synthesis {row.Id}: {difference} (consensus_synthesis against run_syntheses and the run's synthesis_json)."));
                    break;
            }
        }

        progress?.Report(new VerificationProgress("syntheses", rows.Count, rows.Count));
        foreach (var orphan in connection.Query<long>("SELECT s.id FROM run_syntheses s WHERE NOT EXISTS (SELECT 1 FROM consensus_synthesis l WHERE l.id = s.id) ORDER BY s.id"))
        {
            findings.Add(new(FindingSeverity.Problem, "dual_write", $"synthesis {orphan}: run_syntheses row has no legacy twin in consensus_synthesis."));
        }

        return rows.Count;
    }

    private sealed class ForeignKeyViolation
    {
        public string TableName { get; set; } = "";
        public long? RowId { get; set; }
        public string Parent { get; set; } = "";
        public long ForeignKeyId { get; set; }
    }

    private sealed class SynthesisRow
    {
        public long Id { get; set; }
        public long? RunId { get; set; }
        public bool Latest { get; set; }
        public bool RunJsonReplaced { get; set; }
    }
}
