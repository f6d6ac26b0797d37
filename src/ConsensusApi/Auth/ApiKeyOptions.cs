using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Auth;

/// <summary>One configured API key.</summary>
public sealed class ApiKeyEntry
{
    /// <summary>Who holds it (appears in logs; the key never does).</summary>
    public string Name { get; set; } = "";

    /// <summary>The key, or <c>sha256:&lt;hex&gt;</c> of it so the plain key need not sit in a file.</summary>
    public string Key { get; set; } = "";

    /// <summary><c>reader</c>, <c>writer</c> or <c>admin</c>.</summary>
    public string Role { get; set; } = "";
}

/// <summary>API keys (configuration section <c>Auth</c>). None configured: the service runs open, on loopback only.</summary>
public sealed class AuthOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Auth";

    /// <summary>The keys. Default none.</summary>
    public IList<ApiKeyEntry> ApiKeys { get; } = [];

    /// <summary>True when no key is configured.</summary>
    public bool IsOpen => ApiKeys.Count == 0;
}

/// <summary>Every key needs a name, a key and a known role; messages name the key path.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var entry = options.ApiKeys[i];
            var prefix = $"Auth:ApiKeys:{i}";
            if (string.IsNullOrWhiteSpace(entry.Name))
            {
                failures.Add($"{prefix}:Name must be set.");
            }

            if (string.IsNullOrEmpty(entry.Key))
            {
                failures.Add($"{prefix}:Key must be set.");
            }
            else if (!ApiKeyHash.TryFrom(entry.Key, out var hash))
            {
                failures.Add($"{prefix}:Key starts with 'sha256:' but is not 64 hexadecimal digits.");
            }
            else if (!seen.Add(Convert.ToHexString(hash)))
            {
                failures.Add($"{prefix}:Key is configured twice.");
            }

            if (!Roles.All.Contains(entry.Role, StringComparer.Ordinal))
            {
                failures.Add($"{prefix}:Role must be one of reader, writer, admin.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>SHA-256 of keys: configured keys are compared by hash, in constant time.</summary>
internal static class ApiKeyHash
{
    private const string Prefix = "sha256:";

    public static byte[] Of(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The hash a configured key stands for: given as <c>sha256:&lt;hex&gt;</c>, or computed from the plain key.</summary>
    public static bool TryFrom(string configured, out byte[] hash)
    {
        if (!configured.StartsWith(Prefix, StringComparison.Ordinal))
        {
            hash = Of(configured);
            return true;
        }

        var hex = configured[Prefix.Length..];
        hash = [];
        if (hex.Length != 64)
        {
            return false;
        }

        try
        {
            hash = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
