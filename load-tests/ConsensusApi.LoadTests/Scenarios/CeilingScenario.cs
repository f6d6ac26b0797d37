using ConsensusApi.LoadTests.Engine;

namespace ConsensusApi.LoadTests.Scenarios;

/// <summary>
/// The same-run reference: <c>GET /health/live</c> touches no database, so its rate is the ceiling
/// of any endpoint of this service on this machine with this load generator.
/// </summary>
internal sealed class CeilingScenario : Scenario
{
    private static readonly byte[] Healthy = "\"healthy\""u8.ToArray();

    public override string Name => "ceiling";

    public override string Description => "GET /health/live (no database): the ceiling for any endpoint";

    public override double DefaultRate => 2000;

    public override async Task<StepResult> StepAsync(VirtualUser user, CancellationToken cancellationToken)
    {
        var response = await user.Client.GetAsync("/health/live", cancellationToken);
        if (!response.Success)
        {
            return StepResult.HttpError;
        }

        return response.Body.AsSpan().IndexOf(Healthy) >= 0 ? StepResult.Passed : StepResult.Integrity("/health/live did not say healthy");
    }
}
