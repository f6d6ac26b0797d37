namespace ConsensusApi.LoadTests.Engine;

/// <summary>
/// A load-test scenario: what one virtual user does in one iteration. The runner calls
/// <see cref="PrepareAsync"/> once, <see cref="StepAsync"/> concurrently for as long as the load
/// lasts, then <see cref="VerifyAsync"/> once to read back what was written.
/// </summary>
public abstract class Scenario
{
    private ScenarioContext? _context;

    /// <summary>Name used on the command line and in reports.</summary>
    public abstract string Name { get; }

    /// <summary>What one iteration does, for the report.</summary>
    public abstract string Description { get; }

    /// <summary>Arrivals per second of the open model when none is given.</summary>
    public virtual double DefaultRate => 500;

    /// <summary>The run's shared state: seed, read-back client, unique names.</summary>
    protected ScenarioContext Context => _context ?? throw new InvalidOperationException("The scenario has not been prepared.");

    /// <summary>Runs before the load, unmeasured.</summary>
    public Task InitializeAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        _context = context;
        return PrepareAsync(cancellationToken);
    }

    /// <summary>One iteration. HTTP errors are recorded by the client; the result says whether what came back was right.</summary>
    public abstract Task<StepResult> StepAsync(VirtualUser user, CancellationToken cancellationToken);

    /// <summary>Runs after the load, unmeasured: reads back a sample of what was written and records integrity checks.</summary>
    public virtual Task VerifyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Set-up before the load.</summary>
    protected virtual Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>How an iteration went.</summary>
public enum StepStatus
{
    /// <summary>Every response was expected and matched what was sent.</summary>
    Passed,

    /// <summary>A request failed; it is already counted as an error.</summary>
    HttpError,

    /// <summary>A response came back with the expected status but the wrong data.</summary>
    IntegrityFailure,
}

/// <summary>The outcome of one iteration.</summary>
/// <param name="Status">How it went.</param>
/// <param name="Message">What was wrong, for an integrity failure.</param>
public readonly record struct StepResult(StepStatus Status, string? Message)
{
    /// <summary>All good.</summary>
    public static StepResult Passed { get; } = new(StepStatus.Passed, null);

    /// <summary>A request failed (already recorded).</summary>
    public static StepResult HttpError { get; } = new(StepStatus.HttpError, null);

    /// <summary>Data came back wrong.</summary>
    public static StepResult Integrity(string message) => new(StepStatus.IntegrityFailure, message);
}

/// <summary>One virtual user: an id unique within the scenario run, its iteration count and its own random numbers.</summary>
public sealed class VirtualUser(int id, ApiClient client)
{
    /// <summary>Unique within the scenario run (in the open model, one per arrival).</summary>
    public int Id { get; } = id;

    /// <summary>Iterations this user has started before the current one.</summary>
    public long Iteration { get; internal set; }

    /// <summary>Sends and records requests.</summary>
    public ApiClient Client { get; } = client;

    /// <summary>This user's random numbers (not shared between threads).</summary>
    public Random Random { get; } = new(HashCode.Combine(id, Environment.TickCount));
}

/// <summary>State shared by the iterations of one scenario run.</summary>
public sealed class ScenarioContext
{
    /// <summary>The load model this run uses.</summary>
    public required LoadModel Model { get; init; }

    /// <summary>Unique to this scenario run (run tag and model), for spec ids and agent names.</summary>
    public required string Prefix { get; init; }

    /// <summary>Unix milliseconds at the start of the run: the base of the run timestamps the scenario sends.</summary>
    public required long BaseTimestamp { get; init; }

    /// <summary>An unrecorded client for set-up and read-back.</summary>
    public required ApiClient Reader { get; init; }

    /// <summary>Where integrity checks of the read-back go.</summary>
    public required ScenarioStats Stats { get; init; }

    /// <summary>Seeded artifacts, when the run seeded.</summary>
    public SeedData? Seed { get; init; }
}
