using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Auth;

/// <summary>
/// Authenticates <c>X-Api-Key</c> against the configured keys by SHA-256 hash in constant time
/// (every key is compared, match or not). With no keys configured every caller is admin: the
/// service then only listens on loopback (<see cref="LoopbackGuard"/>). Challenges and
/// forbids answer with problem details.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<AuthOptions> auth,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    private readonly (string Name, string Role, byte[] Hash)[] _keys = auth.Value.ApiKeys
        .Select(entry => (entry.Name, entry.Role, ApiKeyHash.TryFrom(entry.Key, out var hash) ? hash : []))
        .ToArray();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (_keys.Length == 0)
        {
            return Task.FromResult(Success("open", Roles.Admin));
        }

        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var presented = ApiKeyHash.Of(values[0]!);
        (string Name, string Role)? match = null;
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, key.Hash))
            {
                match = (key.Name, key.Role);
            }
        }

        return Task.FromResult(match is { } found ? Success(found.Name, found.Role) : AuthenticateResult.Fail("Unknown API key."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = SchemeName;
        await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Detail = Request.Headers.ContainsKey(HeaderName)
                    ? "The X-Api-Key header does not hold a known API key."
                    : "This call needs an API key in the X-Api-Key header.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var role = Context.User.FindFirstValue(ClaimTypes.Role);
        await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Detail = $"The API key's role ({role}) does not allow this call.",
            },
        });
    }

    private static AuthenticateResult Success(string name, string role)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
