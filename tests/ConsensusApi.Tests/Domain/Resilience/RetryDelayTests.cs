using ConsensusApi.Domain.Resilience;

namespace ConsensusApi.Tests.Domain.Resilience;

public class RetryDelayTests
{
    private static readonly RetryOptions NoJitter = new() { JitterFactor = 0 };

    [Fact]
    public void WithoutJitterDelaysDoubleFrom100Milliseconds()
    {
        int[] expectedMs = [100, 200, 400, 800, 1600];

        var actual = Enumerable.Range(1, 5).Select(n => RetryDelay.Compute(NoJitter, n, random01: 0.9));

        Assert.Equal(expectedMs.Select(ms => TimeSpan.FromMilliseconds(ms)), actual);
    }

    [Fact]
    public void HalfwayRandomValueGivesTheUnjitteredDelay()
    {
        var options = new RetryOptions();

        Assert.Equal(TimeSpan.FromMilliseconds(100), RetryDelay.Compute(options, 1, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(800), RetryDelay.Compute(options, 4, 0.5));
    }

    [Fact]
    public void JitterSpansPlusMinusTheFactorAtItsExtremes()
    {
        var options = new RetryOptions { JitterFactor = 0.5 };

        Assert.Equal(TimeSpan.FromMilliseconds(200), RetryDelay.Compute(options, 3, 0.0));
        Assert.Equal(TimeSpan.FromMilliseconds(600), RetryDelay.Compute(options, 3, 1.0));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.25)]
    public void JitteredDelaysStayWithinBoundsAndAreSpreadOut(double jitterFactor)
    {
        var options = new RetryOptions { JitterFactor = jitterFactor };
        var random = new Random(12345);

        for (var retry = 1; retry <= 5; retry++)
        {
            var baseMs = 100 * Math.Pow(2, retry - 1);
            var samples = Enumerable.Range(0, 1_000)
                .Select(_ => RetryDelay.Compute(options, retry, random.NextDouble()).TotalMilliseconds)
                .ToList();

            Assert.All(samples, ms => Assert.InRange(ms, baseMs * (1 - jitterFactor), baseMs * (1 + jitterFactor)));

            // Uniform spread: the samples reach into both outer fifths of the range and average near the base.
            var width = 2 * jitterFactor * baseMs;
            Assert.True(samples.Min() < baseMs - (0.3 * width), $"retry {retry}: nothing in the lowest fifth");
            Assert.True(samples.Max() > baseMs + (0.3 * width), $"retry {retry}: nothing in the highest fifth");
            Assert.InRange(samples.Average(), baseMs - (0.05 * width), baseMs + (0.05 * width));
            Assert.True(samples.Distinct().Count() > 900, $"retry {retry}: jitter is not random");
        }
    }

    [Fact]
    public void DelayIsCappedAtMaxBackoffWithoutJitter()
    {
        var options = new RetryOptions { JitterFactor = 0, MaxBackoffMs = 1_000 };

        Assert.Equal(TimeSpan.FromMilliseconds(800), RetryDelay.Compute(options, 4, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(1_000), RetryDelay.Compute(options, 5, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(1_000), RetryDelay.Compute(options, 12, 0.5));
    }

    [Fact]
    public void JitteredDelayNeverExceedsMaxBackoff()
    {
        var options = new RetryOptions { JitterFactor = 1.0, MaxBackoffMs = 1_000 };

        // base is 800 ms: plus 100% jitter would be 1,600 ms, capped at 1,000.
        Assert.Equal(TimeSpan.FromMilliseconds(1_000), RetryDelay.Compute(options, 4, 0.999));

        // Past the cap, jitter can still shorten the delay but never lengthen it.
        Assert.Equal(TimeSpan.FromMilliseconds(1_000), RetryDelay.Compute(options, 10, 0.75));
        Assert.Equal(TimeSpan.FromMilliseconds(500), RetryDelay.Compute(options, 10, 0.25));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(2_000)]
    [InlineData(int.MaxValue)]
    public void HugeRetryNumbersDoNotOverflow(int retryNumber)
    {
        var options = new RetryOptions { Multiplier = 10, JitterFactor = 0 };

        Assert.Equal(TimeSpan.FromMilliseconds(10_000), RetryDelay.Compute(options, retryNumber, 0.3));
    }

    [Fact]
    public void SuggestedDelayReplacesTheComputedOne()
    {
        var options = new RetryOptions();

        var delay = RetryDelay.Compute(options, 1, 0.9, suggested: TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.FromSeconds(3), delay);
    }

    [Fact]
    public void SuggestedDelayIsCappedAtMaxBackoffAndNeverNegative()
    {
        var options = new RetryOptions { MaxBackoffMs = 5_000 };

        Assert.Equal(TimeSpan.FromSeconds(5), RetryDelay.Compute(options, 1, 0.5, TimeSpan.FromMinutes(2)));
        Assert.Equal(TimeSpan.Zero, RetryDelay.Compute(options, 1, 0.5, TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void OutOfRangeArgumentsAreRejected()
    {
        var options = new RetryOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => RetryDelay.Compute(options, 0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => RetryDelay.Compute(options, 1, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => RetryDelay.Compute(options, 1, double.NaN));
    }
}
