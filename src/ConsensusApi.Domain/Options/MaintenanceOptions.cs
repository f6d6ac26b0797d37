using System.ComponentModel.DataAnnotations;

namespace ConsensusApi.Domain.Options;

/// <summary>Scheduled incremental vacuum (configuration section <c>Vacuum</c>).</summary>
public sealed class VacuumOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Vacuum";

    /// <summary>Time between scheduled incremental vacuum cycles. Default one day.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Pages freed per cycle (<c>PRAGMA incremental_vacuum(N)</c>). Default 20.</summary>
    [Range(1, 10_000_000, ErrorMessage = "Vacuum:Pages must be between 1 and 10000000.")]
    public int Pages { get; set; } = 20;
}

/// <summary>Online backups (configuration section <c>Backup</c>).</summary>
public sealed class BackupOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Backup";

    /// <summary>Folder backups are written to; relative paths resolve against the working directory. Default <c>data/backups</c>.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Backup:Folder must be set.")]
    public string Folder { get; set; } = "data/backups";
}

/// <summary>Size limits on stored values (configuration section <c>Limits</c>).</summary>
public sealed class LimitsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Limits";

    /// <summary>Largest serialized <c>content</c>, in bytes. Default 1 MiB.</summary>
    [Range(1, 256 << 20, ErrorMessage = "Limits:MaxContentBytes must be between 1 and 268435456.")]
    public int MaxContentBytes { get; set; } = 1 << 20;

    /// <summary>Most items in one batch. Default 1000.</summary>
    [Range(1, 100_000, ErrorMessage = "Limits:MaxBatchItems must be between 1 and 100000.")]
    public int MaxBatchItems { get; set; } = 1000;

    /// <summary>Largest request body accepted, in bytes; larger bodies are refused before they are read. Default 32 MiB.</summary>
    [Range(1024L, 1L << 34, ErrorMessage = "Limits:MaxRequestBodyBytes must be between 1024 and 17179869184.")]
    public long MaxRequestBodyBytes { get; set; } = 32L << 20;

    /// <summary>
    /// Longest a request may take, in seconds, before it is answered 503 with <c>Retry-After</c>
    /// (maintenance calls, vacuum and backup, are exempt). Keep it above the retry budget so a
    /// write normally ends through retry first. Default 30.
    /// </summary>
    [Range(1, 3600, ErrorMessage = "Limits:RequestTimeoutSeconds must be between 1 and 3600.")]
    public int RequestTimeoutSeconds { get; set; } = 30;
}
