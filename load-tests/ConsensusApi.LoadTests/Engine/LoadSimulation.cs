using System.Diagnostics;
using System.Text.Json;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>The two ways load is applied: a fixed number of users (closed) or a fixed arrival rate (open).</summary>
public static class LoadSimulation
{
    /// <summary>An arrival that starts this much after its scheduled time is counted late.</summary>
    public static readonly TimeSpan LateAfter = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Closed model: <paramref name="users"/> virtual users, each starting its next iteration as soon as
    /// the previous one ends, until <paramref name="stopping"/> is signalled. The returned task ends when
    /// every user has finished its last iteration.
    /// </summary>
    public static Task RunClosedAsync(Scenario scenario, ScenarioStats stats, ApiClient client, int users, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var tasks = Enumerable.Range(0, users).Select(id => Task.Run(
            async () =>
            {
                var user = new VirtualUser(id, client);
                while (!stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    await IterateAsync(scenario, user, stats, cancellationToken);
                    user.Iteration++;
                }
            },
            CancellationToken.None));
        return Task.WhenAll(tasks);
    }

    /// <summary>
    /// Open model: iterations start at <paramref name="rate"/> per second on a fixed schedule, whether or
    /// not earlier ones have finished; an arrival that finds <paramref name="maxInFlight"/> iterations
    /// running is dropped, one that starts 10 ms or more behind schedule is late. Each arrival is a new
    /// virtual user. The returned task ends when the schedule stops and the last iteration has finished.
    /// </summary>
    public static async Task RunOpenAsync(
        Scenario scenario, ScenarioStats stats, ApiClient client, double rate, int maxInFlight, CancellationToken stopping, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var inFlight = 0;
        long issued = 0;
        var clock = Stopwatch.StartNew();
        while (!stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            for (; issued < due; issued++)
            {
                if (clock.Elapsed - TimeSpan.FromSeconds(issued / rate) >= LateAfter)
                {
                    stats.RecordLate();
                }

                if (Volatile.Read(ref inFlight) >= maxInFlight)
                {
                    stats.RecordDropped();
                    continue;
                }

                Interlocked.Increment(ref inFlight);
                var user = new VirtualUser((int)(issued % int.MaxValue), client);
                _ = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await IterateAsync(scenario, user, stats, cancellationToken);
                        }
                        finally
                        {
                            Interlocked.Decrement(ref inFlight);
                        }
                    },
                    CancellationToken.None);
            }

            await Task.Delay(1, CancellationToken.None);
        }

        while (Volatile.Read(ref inFlight) > 0)
        {
            await Task.Delay(10, CancellationToken.None);
        }
    }

    private static async Task IterateAsync(Scenario scenario, VirtualUser user, ScenarioStats stats, CancellationToken cancellationToken)
    {
        try
        {
            var result = await scenario.StepAsync(user, cancellationToken);
            if (result.Status != StepStatus.HttpError)
            {
                stats.RecordIntegrity(result.Status == StepStatus.Passed, result.Message);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (JsonException ex)
        {
            stats.RecordIntegrity(false, $"unreadable response body: {ex.Message}");
        }
#pragma warning disable CA1031 // A scenario's own bug must show as a failed run, not end a virtual user silently.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            stats.RecordError($"client:{ex.GetType().Name}");
            stats.RecordIntegrity(false, $"{scenario.Name} step threw {ex.GetType().Name}: {ex.Message}");
        }

        stats.RecordIteration();
    }
}
