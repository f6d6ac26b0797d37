namespace ConsensusApi.Domain.Errors;

/// <summary>Base of the small set of failures the Domain reports to its host.</summary>
public abstract class DomainException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected DomainException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The requested resource does not exist.</summary>
public sealed class NotFoundException(string message) : DomainException(message);

/// <summary>The request conflicts with stored state (for example an idempotency key reused with another body).</summary>
public sealed class ConflictException(string message) : DomainException(message);

/// <summary>Input failed validation; <see cref="Errors"/> maps each field to its messages.</summary>
public sealed class DomainValidationException(IReadOnlyDictionary<string, string[]> errors)
    : DomainException("One or more fields are invalid.")
{
    /// <summary>Field name (batch items prefixed as <c>items[3].stage</c>) to messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    /// <summary>Creates a validation failure for one field.</summary>
    public static DomainValidationException For(string field, string message) =>
        new(new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>A <c>content</c> value is larger than <c>Limits:MaxContentBytes</c>.</summary>
public sealed class ContentTooLargeException(string field, long actualBytes, long limitBytes)
    : DomainException($"{field} is {actualBytes} bytes; the limit is {limitBytes} bytes.")
{
    /// <summary>The offending field, e.g. <c>content</c> or <c>items[2].content</c>.</summary>
    public string Field { get; } = field;

    /// <summary>Serialized size of the value.</summary>
    public long ActualBytes { get; } = actualBytes;

    /// <summary>The configured limit.</summary>
    public long LimitBytes { get; } = limitBytes;
}

/// <summary>Storage stayed unavailable (busy, locked, timed out) after every retry.</summary>
public sealed class StorageUnavailableException(string message, TimeSpan retryAfter, Exception? innerException = null)
    : DomainException(message, innerException)
{
    /// <summary>How long a client should wait before trying again.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The database or the disk under it is full.</summary>
public sealed class StorageFullException(string message, Exception? innerException = null)
    : DomainException(message, innerException);

/// <summary>The database file cannot be served: not a database, corrupt, newer than this application, unwritable.</summary>
public sealed class DatabaseStartupException(string message, Exception? innerException = null)
    : DomainException(message, innerException);

/// <summary>A consensus that only two of three agents reached; retryable once.</summary>
public sealed class DegradedConsensusException(string message) : DomainException(message);
