using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Storage;

namespace ConsensusApi.Domain.Models;

/// <summary>The storage file's state (<c>GET /api/v1/admin/storage</c>).</summary>
/// <param name="Path">Full path of the database file.</param>
/// <param name="SizeBytes">Pages times page size.</param>
/// <param name="FreelistBytes">Space held by free pages.</param>
/// <param name="WalBytes">Size of the <c>-wal</c> file.</param>
/// <param name="PageSize">Bytes per page.</param>
/// <param name="PageCount">Pages in the database.</param>
/// <param name="JournalMode">e.g. <c>wal</c>.</param>
/// <param name="AutoVacuum"><c>none</c>, <c>full</c> or <c>incremental</c>.</param>
/// <param name="NeedsFullVacuum">True when the file reclaims space only through a full VACUUM.</param>
/// <param name="LastVacuum">The last vacuum since start-up, if any.</param>
/// <param name="NextVacuumAt">When the schedule runs the next cycle.</param>
public sealed record StorageReport(
    string Path, long SizeBytes, long FreelistBytes, long WalBytes, long PageSize, long PageCount,
    string JournalMode, string AutoVacuum, bool NeedsFullVacuum, VacuumResult? LastVacuum, DateTimeOffset? NextVacuumAt);

/// <summary>One item per connection pragma (<c>GET /api/v1/admin/pragmas</c>).</summary>
/// <param name="Items">The eight pragmas, expected against actual.</param>
public sealed record PragmaReport(IReadOnlyList<PragmaCheck> Items);

/// <summary>Counters for operators (<c>GET /api/v1/admin/telemetry</c>).</summary>
/// <param name="DualWrite">Dual-write counters.</param>
/// <param name="Retry">Storage retry counters.</param>
/// <param name="Pool">Connection pool counters.</param>
public sealed record TelemetryReport(DualWriteReport DualWrite, RetryReport Retry, PoolReport Pool);

/// <summary>Dual-write counters.</summary>
/// <param name="Writes">Dual-writes committed.</param>
/// <param name="Validated">Dual-writes read back and compared.</param>
/// <param name="Mismatches">Comparisons that found a difference.</param>
/// <param name="MismatchRate">Mismatches per validation.</param>
public sealed record DualWriteReport(long Writes, long Validated, long Mismatches, double MismatchRate);

/// <summary>Storage retry counters; <paramref name="Alert"/> is true when the recent retry rate exceeds 20%.</summary>
/// <param name="Operations">Operations completed since start.</param>
/// <param name="RetriedOperations">Operations that needed at least one retry.</param>
/// <param name="Attempts">Retry attempts made.</param>
/// <param name="Recovered">Operations that succeeded after a retry.</param>
/// <param name="Exhausted">Operations that failed after every retry.</param>
/// <param name="RetryRate">Share of operations retried over the recent window.</param>
/// <param name="Alert">True while the retry rate is above the alert threshold.</param>
public sealed record RetryReport(long Operations, long RetriedOperations, long Attempts, long Recovered, long Exhausted, double RetryRate, bool Alert);

/// <summary>Connection pool counters.</summary>
/// <param name="Size">Most open connections.</param>
/// <param name="InUse">Connections leased out, the write lane's included.</param>
/// <param name="Idle">Open connections waiting in the pool.</param>
/// <param name="Open">Physical connections open.</param>
/// <param name="Waits">Checkouts that had to wait.</param>
/// <param name="Timeouts">Checkouts that gave up waiting.</param>
/// <param name="Replaced">Connections discarded by the health check and replaced.</param>
public sealed record PoolReport(int Size, int InUse, int Idle, int Open, long Waits, long Timeouts, long Replaced);

/// <summary>Overall health and each check's (<c>GET /health/live</c>, <c>GET /health/ready</c>).</summary>
/// <param name="Status"><c>healthy</c>, <c>degraded</c> or <c>unhealthy</c>.</param>
/// <param name="Checks">Each check's outcome.</param>
public sealed record HealthStatus(string Status, IReadOnlyList<HealthCheckStatus> Checks);

/// <summary>One health check's outcome.</summary>
/// <param name="Name">The check, e.g. <c>database</c>.</param>
/// <param name="Status"><c>healthy</c>, <c>degraded</c> or <c>unhealthy</c>.</param>
/// <param name="Description">What it found.</param>
public sealed record HealthCheckStatus(string Name, string Status, string? Description);
