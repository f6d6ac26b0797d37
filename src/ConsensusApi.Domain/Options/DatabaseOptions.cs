using System.ComponentModel.DataAnnotations;

namespace ConsensusApi.Domain.Options;

/// <summary>The SQLite file and its connections (configuration section <c>Database</c>).</summary>
public sealed class DatabaseOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Database";

    /// <summary>The SQLite file; folders are created. Relative paths resolve against the working directory. Default <c>data/consensus_artifacts.db</c>.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Database:Path must be set.")]
    public string Path { get; set; } = "data/consensus_artifacts.db";

    /// <summary>Most open connections, the write lane's own included. Default 10.</summary>
    [Range(2, 256, ErrorMessage = "Database:PoolSize must be between 2 and 256.")]
    public int PoolSize { get; set; } = 10;

    /// <summary>Connections opened at start-up and kept warm. Default 2.</summary>
    [Range(1, 256, ErrorMessage = "Database:MinIdle must be between 1 and 256.")]
    public int MinIdle { get; set; } = 2;

    /// <summary>Longest wait for a free pooled connection, in milliseconds. Default 5000.</summary>
    [Range(1, 600_000, ErrorMessage = "Database:AcquireTimeoutMs must be between 1 and 600000.")]
    public int AcquireTimeoutMs { get; set; } = 5000;

    /// <summary>SQLite's own wait for a lock held by another connection (<c>PRAGMA busy_timeout</c>), in milliseconds. Default 5000.</summary>
    [Range(0, 600_000, ErrorMessage = "Database:BusyTimeoutMs must be between 0 and 600000.")]
    public int BusyTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// Microsoft.Data.Sqlite's command timeout in seconds. The provider keeps re-trying a busy
    /// statement until it elapses, on top of <see cref="BusyTimeoutMs"/>; 1 second stops that
    /// stacking so retry stays with the Polly pipeline. Default 1.
    /// </summary>
    [Range(1, 600, ErrorMessage = "Database:CommandTimeoutSeconds must be between 1 and 600.")]
    public int CommandTimeoutSeconds { get; set; } = 1;

    /// <summary>
    /// <c>PRAGMA mmap_size</c> in bytes; 0 turns memory-mapped I/O off. Default 64 MiB. Every
    /// connection maps the file on its own, and every page a reader touches through its map stays
    /// in the resident set: with the checklist's 1 GiB a reader that follows newly written rows
    /// mapped about 90 MB within seconds, which took the service over 300 MB, while 64 MiB gave
    /// the same throughput within the noise (docs/performance.md, fifth series).
    /// </summary>
    [Range(0L, 1L << 40, ErrorMessage = "Database:MmapSizeBytes must be between 0 and 1099511627776.")]
    public long MmapSizeBytes { get; set; } = 64L << 20;

    /// <summary>
    /// <c>PRAGMA journal_size_limit</c>: when the WAL starts again, its file is cut back to this
    /// size. Default 256 MiB, above the WAL that <see cref="WalRestartFrames"/> allows: cutting
    /// the file on every restart and growing it again stalls the write lane.
    /// </summary>
    [Range(0L, 1L << 40, ErrorMessage = "Database:JournalSizeLimitBytes must be between 0 and 1099511627776.")]
    public long JournalSizeLimitBytes { get; set; } = 256L << 20;

    /// <summary>
    /// A WAL file larger than this is checkpointed with TRUNCATE by the write lane, which holds
    /// every write meanwhile. It only happens when the WAL could not start again (a reader held an
    /// old snapshot), so it sits above the WAL that <see cref="WalRestartFrames"/> allows. Default 256 MiB.
    /// </summary>
    [Range(1L, 1L << 40, ErrorMessage = "Database:WalCheckpointThresholdBytes must be between 1 and 1099511627776.")]
    public long WalCheckpointThresholdBytes { get; set; } = 256L << 20;

    /// <summary>
    /// WAL frames (pages) after which the write lane lets the WAL start again from its beginning,
    /// once a background checkpointer, on its own pooled connection, has copied them back into
    /// the database file. 0 leaves checkpoints to SQLite's automatic checkpoint on the lane's
    /// connection (every 1,000 frames, copied by the lane itself). Default 32000 (a WAL of about
    /// 130 MB with 4 KiB pages): each restart holds the lane until the last commit is copied and
    /// synced, so under sustained writes fewer restarts mean fewer stalls.
    /// </summary>
    [Range(0, 1_000_000, ErrorMessage = "Database:WalRestartFrames must be between 0 and 1000000.")]
    public int WalRestartFrames { get; set; } = 32000;

    /// <summary>Most queued units of work the write lane commits in one transaction. Default 256.</summary>
    [Range(1, 10_000, ErrorMessage = "Database:MaxWriteBatch must be between 1 and 10000.")]
    public int MaxWriteBatch { get; set; } = 256;
}
