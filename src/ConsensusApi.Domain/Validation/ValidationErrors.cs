using ConsensusApi.Domain.Errors;

namespace ConsensusApi.Domain.Validation;

/// <summary>Collects field-level messages; field names can carry a prefix such as <c>items[3].</c>.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    /// <summary>True when nothing was recorded.</summary>
    public bool IsEmpty => _errors.Count == 0;

    /// <summary>Records <paramref name="message"/> for <paramref name="field"/>.</summary>
    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            messages = [];
            _errors[field] = messages;
        }

        messages.Add(message);
    }

    /// <summary>The recorded messages by field.</summary>
    public IReadOnlyDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>Throws <see cref="DomainValidationException"/> when anything was recorded.</summary>
    public void ThrowIfAny()
    {
        if (!IsEmpty)
        {
            throw new DomainValidationException(ToDictionary());
        }
    }
}
