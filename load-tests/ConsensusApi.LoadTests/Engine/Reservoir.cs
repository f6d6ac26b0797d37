namespace ConsensusApi.LoadTests.Engine;

/// <summary>A uniform random sample of at most <c>capacity</c> items offered from many threads (reservoir sampling).</summary>
public sealed class Reservoir<T>(int capacity)
{
    private readonly List<T> _items = new(capacity);
    private readonly Random _random = new(17);
    private readonly Lock _lock = new();
    private long _offered;

    /// <summary>Offers an item; it is kept with probability capacity / offered.</summary>
    public void Offer(T item)
    {
        lock (_lock)
        {
            _offered++;
            if (_items.Count < capacity)
            {
                _items.Add(item);
                return;
            }

            var slot = _random.NextInt64(_offered);
            if (slot < capacity)
            {
                _items[(int)slot] = item;
            }
        }
    }

    /// <summary>The sample.</summary>
    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_lock)
            {
                return [.. _items];
            }
        }
    }
}
