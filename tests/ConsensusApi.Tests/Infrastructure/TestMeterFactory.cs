using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>An <see cref="IMeterFactory"/> for tests: creates plain meters and disposes them with itself.</summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly ConcurrentBag<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
