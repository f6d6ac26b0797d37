namespace ConsensusApi.Client;

/// <summary>What kind of failure the service reported, from its status code.</summary>
public enum ProblemKind
{
    /// <summary>A status the contract does not name.</summary>
    Other,

    /// <summary>400: invalid input; <see cref="ConsensusApiException.Errors"/> lists every field.</summary>
    BadRequest,

    /// <summary>401: missing or unknown API key.</summary>
    Unauthorized,

    /// <summary>403: the key's role does not allow the call.</summary>
    Forbidden,

    /// <summary>404: no such resource.</summary>
    NotFound,

    /// <summary>409: conflict, e.g. an Idempotency-Key reused with another body.</summary>
    Conflict,

    /// <summary>413: the body or a content value is over the limit.</summary>
    ContentTooLarge,

    /// <summary>429: rate limited (retried by the client before this is thrown).</summary>
    TooManyRequests,

    /// <summary>503: storage stayed busy (retried by the client before this is thrown).</summary>
    ServiceUnavailable,

    /// <summary>507: the database or its disk is full; nothing was written.</summary>
    InsufficientStorage,

    /// <summary>Any other 5xx.</summary>
    ServerError,
}
