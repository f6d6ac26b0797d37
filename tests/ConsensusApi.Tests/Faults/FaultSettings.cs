using System.Globalization;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// Sizes of the fault tests. CI runs the small defaults; <c>scripts/fault-suite.sh</c> (or the
/// environment) asks for more: <c>FAULTS_KILL_CYCLES</c>, <c>FAULTS_FUZZ_REQUESTS</c>,
/// <c>FAULTS_LONG_RUN_OPERATIONS</c>, <c>FAULTS_LEGACY_ARTIFACTS</c>, <c>FAULTS_LEGACY_CHURN_PERCENT</c>;
/// <c>FAULTS_SEED</c> replays a run.
/// </summary>
public static class FaultSettings
{
    /// <summary>Kill-and-restart cycles of one run.</summary>
    public static int KillCycles => Int("FAULTS_KILL_CYCLES", 3);

    /// <summary>Generated requests of the fuzz test.</summary>
    public static int FuzzRequests => Int("FAULTS_FUZZ_REQUESTS", 3000);

    /// <summary>Sequential operations of each kind in the long run.</summary>
    public static int LongRunOperations => Int("FAULTS_LONG_RUN_OPERATIONS", 1000);

    /// <summary>Artifacts of the generated legacy database.</summary>
    public static int LegacyArtifacts => Int("FAULTS_LEGACY_ARTIFACTS", 5000);

    /// <summary>Share of the legacy database's artifacts deleted before the copy is taken, in percent (default 60).</summary>
    public static double LegacyChurn => Int("FAULTS_LEGACY_CHURN_PERCENT", 60) / 100.0;

    /// <summary>The seed of this run's random choices: <c>FAULTS_SEED</c>, else a new one (printed by each test).</summary>
    public static int Seed { get; } = Int("FAULTS_SEED", Random.Shared.Next(1, int.MaxValue));

    private static int Int(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
