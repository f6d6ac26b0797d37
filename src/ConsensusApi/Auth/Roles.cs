namespace ConsensusApi.Auth;

/// <summary>The roles an API key can have, and the authorization policies built on them.</summary>
internal static class Roles
{
    public const string Reader = "reader";
    public const string Writer = "writer";
    public const string Admin = "admin";

    public static readonly string[] All = [Reader, Writer, Admin];

    /// <summary>Policy names: each admits its role and every stronger one.</summary>
    public static class Policies
    {
        public const string Read = "read";
        public const string Write = "write";
        public const string Administer = "administer";
    }
}
