using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tools;

/// <summary>What to generate.</summary>
/// <param name="Artifacts">Artifacts left in the file at the end (live rows).</param>
/// <param name="Seed">Seed of every random choice: the same options give the same rows.</param>
/// <param name="Churn">Share of all artifacts ever written that were deleted again (specs cleaned up after they were done).</param>
public sealed record LegacyDatabaseOptions(int Artifacts = 50_000, int Seed = 42, double Churn = 0.6);

/// <summary>What was generated.</summary>
public sealed record LegacyDatabaseStats(
    string Path,
    long FileBytes,
    long FreelistBytes,
    long PageSize,
    string JournalMode,
    long AutoVacuum,
    long LiveArtifacts,
    long LiveSyntheses,
    long Specs,
    long SpecStages,
    long AgentExecutions,
    long InsertedArtifacts,
    long InsertedSyntheses,
    int DeletedSpecs,
    int Days);

/// <summary>
/// Writes a database as the terminal UI leaves <c>~/.code/consensus_artifacts.db</c> after months of
/// use: the legacy schema only (<c>user_version</c> 0, journal mode DELETE, no auto-vacuum), specs
/// going through their stages day by day, three or so agents per run with their JSON content and
/// raw responses, a synthesis per run (sometimes two, sometimes none), the UI's own
/// <c>agent_executions</c> table, and specs deleted once done, which leaves free pages all over the
/// file. Deterministic: one seed, one set of rows.
/// </summary>
public static class LegacyDatabaseGenerator
{
    /// <summary>
    /// The legacy schema as the terminal UI created it (DESIGN.md, appendix). A copy apart from the
    /// service's version-0 migration on purpose: the tests hold the migration against it.
    /// </summary>
    public const string LegacyTables = """
        CREATE TABLE IF NOT EXISTS consensus_artifacts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            spec_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            agent_name TEXT NOT NULL,
            content_json TEXT NOT NULL,
            response_text TEXT,
            run_id TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX IF NOT EXISTS idx_spec_stage ON consensus_artifacts(spec_id, stage);

        CREATE TABLE IF NOT EXISTS consensus_synthesis (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            spec_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            output_markdown TEXT NOT NULL,
            output_path TEXT,
            status TEXT NOT NULL,
            artifacts_count INTEGER,
            agreements TEXT,
            conflicts TEXT,
            degraded BOOLEAN DEFAULT 0,
            run_id TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX IF NOT EXISTS idx_synthesis_spec_stage ON consensus_synthesis(spec_id, stage);
        """;

    /// <summary>The legacy tables and the UI's agent_executions table.</summary>
    public const string Schema = LegacyTables + """

        CREATE TABLE IF NOT EXISTS agent_executions (
            agent_id TEXT PRIMARY KEY,
            spec_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            phase_type TEXT NOT NULL,
            agent_name TEXT NOT NULL,
            run_id TEXT,
            spawned_at TIMESTAMP NOT NULL,
            completed_at TIMESTAMP,
            response_text TEXT,
            extraction_error TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_agent_executions_spec ON agent_executions(spec_id, stage);
        """;

    private static readonly string[] MainStages = ["speckit.specify", "spec-plan", "spec-tasks", "spec-implement", "spec-validate", "spec-audit", "spec-unlock"];
    private static readonly string[] Agents = ["gemini", "claude", "code", "gpt_pro", "gpt_codex"];
    private static readonly string[] Models = ["gemini-2.5-pro", "claude-sonnet-4.5", "gpt-5-codex", "gpt-5", "gemini-2.5-flash"];

    private static readonly string[] Words =
    [
        "spec", "plan", "task", "agent", "consensus", "module", "endpoint", "schema", "migration", "index", "retry", "backoff", "vacuum",
        "latency", "throughput", "test", "fixture", "handler", "queue", "lane", "writer", "reader", "pool", "connection", "transaction",
        "rollback", "commit", "journal", "checkpoint", "telemetry", "metric", "counter", "histogram", "config", "option", "validation",
        "error", "warning", "timeout", "deadline", "budget", "cache", "snapshot", "backup", "restore", "review", "risk", "owner", "scope",
        "acceptance", "criteria", "rollout", "feature", "flag", "refactor", "interface", "contract", "boundary", "edge", "case", "input",
    ];

    /// <summary>Writes the database to <paramref name="path"/> (replacing any file there).</summary>
    public static LegacyDatabaseStats Generate(string path, LegacyDatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Artifacts, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Churn, 0.95);
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        foreach (var stale in new[] { full, full + "-journal", full + "-wal", full + "-shm" })
        {
            File.Delete(stale);
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = DELETE;" + Schema);
        var generator = new Run(connection, new Random(options.Seed), options);
        generator.Write();

        long Scalar(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        var pageSize = Scalar("PRAGMA page_size");
        using (var mode = connection.CreateCommand())
        {
            mode.CommandText = "PRAGMA journal_mode";
            var journal = (string)mode.ExecuteScalar()!;
            var stats = new LegacyDatabaseStats(
                full,
                new FileInfo(full).Length,
                Scalar("PRAGMA freelist_count") * pageSize,
                pageSize,
                journal,
                Scalar("PRAGMA auto_vacuum"),
                Scalar("SELECT count(*) FROM consensus_artifacts"),
                Scalar("SELECT count(*) FROM consensus_synthesis"),
                Scalar("SELECT count(DISTINCT spec_id) FROM consensus_artifacts"),
                Scalar("SELECT count(*) FROM (SELECT DISTINCT spec_id, stage FROM consensus_artifacts)"),
                Scalar("SELECT count(*) FROM agent_executions"),
                generator.InsertedArtifacts,
                generator.InsertedSyntheses,
                generator.DeletedSpecs,
                generator.Days);
            return stats;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class Spec(string id, string[] stages, int startDay, bool abandoned)
    {
        public string Id { get; } = id;

        public string[] Stages { get; } = stages;

        public int StartDay { get; } = startDay;

        public bool Abandoned { get; } = abandoned;

        public int Next { get; set; }

        public int? FinishedDay { get; set; }

        public long Artifacts { get; set; }
    }

    /// <summary>One generation: the clock, the specs in flight and the prepared statements.</summary>
    private sealed class Run(SqliteConnection connection, Random random, LegacyDatabaseOptions options)
    {
        private static readonly DateTime Start = new(2025, 6, 2, 8, 0, 0, DateTimeKind.Utc);
        private readonly List<Spec> _specs = [];
        private readonly HashSet<int> _specNumbers = [];
        private long _live;

        public long InsertedArtifacts { get; private set; }

        public long InsertedSyntheses { get; private set; }

        public int DeletedSpecs { get; private set; }

        public int Days { get; private set; }

        public void Write()
        {
            using var artifact = Prepare("""
                INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at)
                VALUES ($spec, $stage, $agent, $content, $response, $run, $at)
                """, "$spec", "$stage", "$agent", "$content", "$response", "$run", "$at");
            using var synthesis = Prepare("""
                INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, output_path, status, artifacts_count, agreements, conflicts, degraded, run_id, created_at)
                VALUES ($spec, $stage, $markdown, $path, $status, $count, $agreements, $conflicts, $degraded, $run, $at)
                """, "$spec", "$stage", "$markdown", "$path", "$status", "$count", "$agreements", "$conflicts", "$degraded", "$run", "$at");
            using var execution = Prepare("""
                INSERT INTO agent_executions (agent_id, spec_id, stage, phase_type, agent_name, run_id, spawned_at, completed_at, response_text, extraction_error)
                VALUES ($id, $spec, $stage, $phase, $agent, $run, $spawned, $completed, $response, $error)
                """, "$id", "$spec", "$stage", "$phase", "$agent", "$run", "$spawned", "$completed", "$response", "$error");

            // Months of use without cleaning up, to a peak; then the user deletes the specs that are done
            // (oldest first), which frees pages all over the file; then a few more weeks of use.
            var peak = (long)Math.Ceiling(options.Artifacts / (1 - options.Churn));
            var day = 0;
            for (; _live < peak; day++)
            {
                Day(day, peak, artifact, synthesis, execution, cleanUp: false);
            }

            Day(day++, peak, artifact, synthesis, execution, cleanUp: true);
            for (; _live < options.Artifacts; day++)
            {
                Day(day, options.Artifacts, artifact, synthesis, execution, cleanUp: false);
            }

            Days = day;
        }

        private void Day(int day, long limit, SqliteCommand artifact, SqliteCommand synthesis, SqliteCommand execution, bool cleanUp)
        {
            using var transaction = connection.BeginTransaction();
            artifact.Transaction = synthesis.Transaction = execution.Transaction = transaction;
            if (cleanUp)
            {
                CleanUp(transaction);
                transaction.Commit();
                return;
            }

            var clock = Start.AddDays(day).AddMinutes(random.Next(0, 120));
            // A busier team for a bigger file, so that it still covers months rather than years.
            for (var fresh = random.Next(0, (6 * Math.Max(1, options.Artifacts / 6_000)) + 1); fresh > 0; fresh--)
            {
                _specs.Add(NewSpec(day));
            }

            foreach (var spec in _specs.Where(s => s.FinishedDay is null && !(s.Abandoned && s.Next >= s.Stages.Length / 2)).ToList())
            {
                if (random.NextDouble() < 0.45 && _live < limit)
                {
                    clock = clock.AddMinutes(random.Next(3, 90));
                    RunStage(spec, spec.Stages[spec.Next], clock, day, limit, artifact, synthesis, execution);
                    // Now and then a stage is run again (the first result was not good enough).
                    if (random.NextDouble() >= 0.12)
                    {
                        spec.Next++;
                    }

                    if (spec.Next == spec.Stages.Length)
                    {
                        spec.FinishedDay = day;
                    }
                }
            }

            transaction.Commit();
        }

        private Spec NewSpec(int day)
        {
            int number;
            // Spec numbers are drawn from a range well above the number of specs the file will need.
            var range = Math.Max(2000, (int)(options.Artifacts / (1 - options.Churn) / 4));
            do
            {
                number = random.Next(1, range);
            }
            while (!_specNumbers.Add(number));

            var family = random.NextDouble() < 0.8 ? "SPEC-KIT" : random.NextDouble() < 0.5 ? "SPEC-OPS" : "SPEC-UI";
            var stages = new List<string>();
            foreach (var stage in MainStages)
            {
                stages.Add(stage);
                if (stage == "speckit.specify" && random.NextDouble() < 0.3)
                {
                    stages.Add("spec-clarify");
                }
                else if (stage == "spec-plan" && random.NextDouble() < 0.3)
                {
                    stages.Add("spec-analyze");
                }
                else if (stage == "spec-tasks" && random.NextDouble() < 0.2)
                {
                    stages.Add("spec-checklist");
                }
            }

            return new Spec(string.Create(CultureInfo.InvariantCulture, $"{family}-{number:000}"), [.. stages], day, abandoned: random.NextDouble() < 0.15);
        }

        private void RunStage(Spec spec, string stage, DateTime clock, int day, long limit, SqliteCommand artifact, SqliteCommand synthesis, SqliteCommand execution)
        {
            // Runs of the first weeks predate the correlation id; later ones mostly carry it.
            var runId = day > 20 && random.NextDouble() < 0.85 ? "run-" + Hex(12) : null;
            var agents = Agents.OrderBy(_ => random.Next()).Take(random.NextDouble() < 0.8 ? 3 : random.NextDouble() < 0.5 ? 2 : 4).ToArray();
            var at = clock;
            foreach (var agent in agents)
            {
                if (_live >= limit)
                {
                    break;
                }

                at = at.AddSeconds(random.Next(0, 3) == 0 ? 0 : random.Next(1, 240));
                var response = random.NextDouble() < 0.1 ? null : Markdown(random.Next(400, 5000));
                Bind(artifact, spec.Id, stage, agent, Content(spec.Id, stage, agent), response, runId, Time(at));
                artifact.ExecuteNonQuery();
                InsertedArtifacts++;
                spec.Artifacts++;
                _live++;

                var failed = random.NextDouble() < 0.04;
                Bind(execution, "agent-" + Hex(16), spec.Id, stage, random.NextDouble() < 0.7 ? "regular" : "quality_gate", agent, runId,
                    Time(at.AddSeconds(-random.Next(20, 600))), failed ? null : Time(at), failed ? Markdown(random.Next(200, 1500)) : null,
                    failed ? "no JSON block found in the response" : null);
                execution.ExecuteNonQuery();
            }

            var syntheses = random.NextDouble() switch
            {
                < 0.05 => 0,
                < 0.10 => 2,
                _ => 1,
            };
            for (var i = 0; i < syntheses; i++)
            {
                at = at.AddSeconds(random.Next(5, 120));
                var status = random.NextDouble() switch
                {
                    < 0.75 => "ok",
                    < 0.90 => "degraded",
                    < 0.97 => "conflict",
                    _ => "error",
                };
                Bind(synthesis, spec.Id, stage, Markdown(random.Next(800, 4000)), $"docs/{spec.Id}/{stage.Replace("speckit.", "", StringComparison.Ordinal)}.md",
                    status, agents.Length, random.NextDouble() < 0.8 ? Sentence(random.Next(60, 400)) : null,
                    status == "ok" && random.NextDouble() < 0.7 ? null : Sentence(random.Next(40, 300)), status == "degraded" ? 1 : 0, runId, Time(at));
                synthesis.ExecuteNonQuery();
                InsertedSyntheses++;
            }
        }

        /// <summary>
        /// Deletes specs, those done the longest first, then abandoned ones, then any, until a tenth
        /// fewer artifacts than wanted are left, for the last weeks of use to add.
        /// </summary>
        private void CleanUp(SqliteTransaction transaction)
        {
            var goal = options.Artifacts * 9 / 10;
            var order = _specs.OrderBy(s => s.FinishedDay is null ? 1 : 0).ThenBy(s => s.FinishedDay ?? s.StartDay).ThenBy(s => s.Abandoned ? 0 : 1).ToList();
            foreach (var spec in order)
            {
                if (_live <= goal)
                {
                    break;
                }

                foreach (var table in new[] { "consensus_artifacts", "consensus_synthesis", "agent_executions" })
                {
                    using var delete = connection.CreateCommand();
                    delete.Transaction = transaction;
                    delete.CommandText = $"DELETE FROM {table} WHERE spec_id = $spec";
                    delete.Parameters.AddWithValue("$spec", spec.Id);
                    delete.ExecuteNonQuery();
                }

                _live -= spec.Artifacts;
                _specs.Remove(spec);
                DeletedSpecs++;
            }
        }

        private string Content(string spec, string stage, string agent)
        {
            var recommendations = Enumerable.Range(0, random.Next(2, 9)).Select(_ => Sentence(random.Next(30, 160))).ToArray();
            var content = new Dictionary<string, object?>
            {
                ["agent"] = agent,
                ["model"] = Models[Array.IndexOf(Agents, agent)],
                ["spec_id"] = spec,
                ["stage"] = stage,
                ["summary"] = Sentence(random.Next(80, 500)),
                ["recommendations"] = recommendations,
                ["risks"] = random.NextDouble() < 0.5 ? new[] { Sentence(random.Next(30, 120)) } : Array.Empty<string>(),
                ["confidence"] = Math.Round(random.NextDouble(), 2),
                ["tokens"] = random.Next(300, 9000),
            };
            return JsonSerializer.Serialize(content);
        }

        private string Markdown(int length)
        {
            var text = new StringBuilder(length + 100);
            text.Append("# ").Append(Sentence(random.Next(20, 60))).Append("\n\n");
            while (text.Length < length)
            {
                text.Append(random.NextDouble() < 0.3 ? "- " : "").Append(Sentence(random.Next(40, 200))).Append('\n');
            }

            return text.ToString();
        }

        private string Sentence(int length)
        {
            var text = new StringBuilder(length + 16);
            while (text.Length < length)
            {
                text.Append(text.Length == 0 ? "" : " ").Append(Words[random.Next(Words.Length)]);
            }

            text[0] = char.ToUpperInvariant(text[0]);
            return text.Append('.').ToString();
        }

        private string Hex(int digits) => string.Concat(Enumerable.Range(0, digits).Select(_ => "0123456789abcdef"[random.Next(16)]));

        private static string Time(DateTime at) => at.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

        private SqliteCommand Prepare(string sql, params string[] names)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in names)
            {
                command.Parameters.Add(new SqliteParameter(name, null));
            }

            return command;
        }

        private static void Bind(SqliteCommand command, params object?[] values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                command.Parameters[i].Value = values[i] ?? DBNull.Value;
            }
        }
    }
}
