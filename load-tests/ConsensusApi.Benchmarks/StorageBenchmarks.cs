using BenchmarkDotNet.Attributes;
using ConsensusApi.Domain.Models;

namespace ConsensusApi.Benchmarks;

// Each class compares against its Baseline; the statistical test column tests whether a
// benchmark differs from the baseline by more than 5% (Mann-Whitney).

/// <summary>
/// One write: the old shared connection (journal DELETE, legacy tables only) against the
/// repository's dual-write, and the bare floors. Each invocation makes <see cref="Writes"/> writes
/// one after another, awaiting each as a caller of the service would: BenchmarkDotNet blocks a
/// thread on every invocation of an async benchmark, which would otherwise add two thread wake-ups
/// to each awaited write that no caller of the service pays.
/// </summary>
[StatisticalTestColumn("5%")]
public class WritePathBenchmarks
{
    private const int Writes = 20;
    private OldPathStore _old = null!;
    private BenchmarkDatabase _new = null!;
    private BareConnection _bare = null!;
    private int _n = 1_000_000;

    [GlobalSetup]
    public async Task Setup()
    {
        _old = OldPathStore.Open(seed: 10_000);
        _new = await BenchmarkDatabase.OpenAsync(seed: 10_000);
        _bare = new BareConnection(_new.Path);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _bare.Dispose();
        _old.Dispose();
        await _new.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Writes, Description = "old: shared connection, DELETE, legacy only")]
    public void OldSharedConnection()
    {
        for (var i = 0; i < Writes; i++)
        {
            _old.Store(BenchmarkDatabase.Request(_n++));
        }
    }

    [Benchmark(OperationsPerInvoke = Writes, Description = "new: repository dual-write (pool, WAL, write lane, retry)")]
    public async Task RepositoryDualWrite()
    {
        for (var i = 0; i < Writes; i++)
        {
            await _new.Artifacts.StoreAsync(BenchmarkDatabase.Request(_n++), null, CancellationToken.None);
        }
    }

    [Benchmark(OperationsPerInvoke = Writes, Description = "floor: bare prepared dual-write, WAL")]
    public void BarePreparedDualWrite()
    {
        for (var i = 0; i < Writes; i++)
        {
            _bare.DualWrite(BenchmarkDatabase.Request(_n++));
        }
    }

    [Benchmark(OperationsPerInvoke = Writes, Description = "floor: bare prepared single-schema write, WAL")]
    public void BareSingleSchemaWrite()
    {
        for (var i = 0; i < Writes; i++)
        {
            _bare.SingleSchemaWrite(BenchmarkDatabase.Request(_n++));
        }
    }
}

/// <summary>Reads: point select by id and the newest 50 of a stage, old path against the repository.</summary>
[StatisticalTestColumn("5%")]
public class ReadPathBenchmarks
{
    private OldPathStore _old = null!;
    private BenchmarkDatabase _new = null!;
    private int _n;

    [GlobalSetup]
    public async Task Setup()
    {
        _old = OldPathStore.Open(seed: 10_000);
        _new = await BenchmarkDatabase.OpenAsync(seed: 10_000);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _old.Dispose();
        await _new.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "old: get by id")]
    public string? OldGetById() => _old.Get(1 + (_n++ % 10_000));

    [Benchmark(Description = "new: repository get by id")]
    public async Task<long> RepositoryGetById() => (await _new.Artifacts.GetAsync(1 + (_n++ % 10_000), CancellationToken.None)).Id;

    [Benchmark(Description = "old: newest 50 of a stage")]
    public int OldListNewest50() => _old.ListNewest50();

    [Benchmark(Description = "new: repository newest 50 of a stage")]
    public async Task<int> RepositoryListNewest50() =>
        (await _new.Artifacts.ListAsync(BenchmarkDatabase.SpecId, BenchmarkDatabase.Stage, null, new PageRequest(50), CancellationToken.None)).Items.Count;
}

/// <summary>Ten operations at once (five writes, five reads): the old lock against the pool and write lane.</summary>
[StatisticalTestColumn("5%")]
public class ParallelBenchmarks
{
    private OldPathStore _old = null!;
    private BenchmarkDatabase _new = null!;
    private int _n = 1_000_000;

    [GlobalSetup]
    public async Task Setup()
    {
        _old = OldPathStore.Open(seed: 10_000);
        _new = await BenchmarkDatabase.OpenAsync(seed: 10_000);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _old.Dispose();
        await _new.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "old: 10 parallel ops on one locked connection")]
    public Task Old10Parallel() => Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() =>
    {
        var n = Interlocked.Increment(ref _n);
        return i % 2 == 0 ? _old.Store(BenchmarkDatabase.Request(n)) : _old.Get(1 + (n % 10_000))?.Length ?? 0;
    })));

    [Benchmark(Description = "new: 10 parallel ops through pool and write lane")]
    public Task New10Parallel() => Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
    {
        var n = Interlocked.Increment(ref _n);
        return i % 2 == 0
            ? (await _new.Artifacts.StoreAsync(BenchmarkDatabase.Request(n), null, CancellationToken.None)).Value.Id
            : (await _new.Artifacts.GetAsync(1 + (n % 10_000), CancellationToken.None)).Id;
    }));
}

/// <summary>Journal mode alone: WAL against DELETE, each with its usual synchronous setting, on the same schema and statements.</summary>
[StatisticalTestColumn("5%")]
public class JournalModeBenchmarks
{
    private BenchmarkDatabase _schema = null!;
    private BareConnection _connection = null!;
    private int _n = 1_000_000;

    [Params("DELETE", "WAL")]
    public string JournalMode { get; set; } = "WAL";

    [GlobalSetup]
    public async Task Setup()
    {
        _schema = await BenchmarkDatabase.OpenAsync(seed: 10_000);
        await _schema.Database.DisposeAsync(); // leave the migrated file to the bare connection alone
        _connection = new BareConnection(_schema.Path, JournalMode);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _connection.Dispose();
        await _schema.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "dual-write")]
    public long Write() => _connection.DualWrite(BenchmarkDatabase.Request(_n++));

    [Benchmark(Description = "get by id")]
    public string? Read() => _connection.GetById(1 + (_n++ % 10_000));
}

/// <summary>100 artifacts: one batch (one transaction) against 100 single writes.</summary>
[StatisticalTestColumn("5%")]
public class BatchBenchmarks
{
    private BenchmarkDatabase _new = null!;
    private int _n = 1_000_000;

    [GlobalSetup]
    public async Task Setup() => _new = await BenchmarkDatabase.OpenAsync(seed: 10_000);

    [GlobalCleanup]
    public Task Cleanup() => _new.DisposeAsync().AsTask();

    [Benchmark(Baseline = true, Description = "100 single writes")]
    public async Task Individual100()
    {
        for (var i = 0; i < 100; i++)
        {
            await _new.Artifacts.StoreAsync(BenchmarkDatabase.Request(_n++), null, CancellationToken.None);
        }
    }

    [Benchmark(Description = "one batch of 100")]
    public async Task Batch100()
    {
        var items = Enumerable.Range(0, 100).Select(_ => BenchmarkDatabase.Request(_n++)).ToList();
        await _new.Artifacts.StoreBatchAsync(new ArtifactBatchRequest { Items = items }, null, CancellationToken.None);
    }
}

/// <summary>Point reads from several threads: the pool against one connection behind a lock (both WAL, same pragmas).</summary>
[StatisticalTestColumn("5%")]
public class PoolBenchmarks
{
    private const int Reads = 1000;
    private BenchmarkDatabase _new = null!;
    private BareConnection _single = null!;
    private readonly Lock _gate = new();

    [GlobalSetup]
    public async Task Setup()
    {
        _new = await BenchmarkDatabase.OpenAsync(seed: 10_000);
        _single = new BareConnection(_new.Path);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _single.Dispose();
        await _new.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Reads, Description = "single connection + lock, 4 readers")]
    public Task SingleConnection() => Parallel.ForAsync(0, Reads, new ParallelOptions { MaxDegreeOfParallelism = 4 }, (i, _) =>
    {
        lock (_gate)
        {
            _single.GetById(1 + (i % 10_000));
        }

        return ValueTask.CompletedTask;
    });

    [Benchmark(OperationsPerInvoke = Reads, Description = "repository through the pool, 4 readers")]
    public Task Pooled() => Parallel.ForAsync(0, Reads, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, token) =>
        await _new.Artifacts.GetAsync(1 + (i % 10_000), token));
}

/// <summary>
/// Whether read cost grows with the data: the newest 50 of a stage and its latest run, with 10,000
/// and 1,000,000 outputs stored, all in the stage that is read (the worst case for a sort), next
/// to the old path's newest 50 on the same number of legacy rows.
/// </summary>
public class ScalingBenchmarks
{
    private BenchmarkDatabase _new = null!;
    private OldPathStore _old = null!;

    [Params(10_000, 1_000_000)]
    public int Outputs { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _new = await BenchmarkDatabase.OpenAsync(seed: Outputs);
        _old = OldPathStore.Open(seed: Outputs);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _old.Dispose();
        await _new.DisposeAsync();
    }

    [Benchmark(Description = "new: repository newest 50 of a stage")]
    public async Task<int> RepositoryListNewest50() =>
        (await _new.Artifacts.ListAsync(BenchmarkDatabase.SpecId, BenchmarkDatabase.Stage, null, new PageRequest(50), CancellationToken.None)).Items.Count;

    [Benchmark(Description = "new: repository latest run")]
    public async Task<long> RepositoryLatestRun() =>
        (await _new.Runs.LatestAsync(BenchmarkDatabase.SpecId, BenchmarkDatabase.Stage, CancellationToken.None)).Id;

    [Benchmark(Description = "old: newest 50 of a stage")]
    public int OldListNewest50() => _old.ListNewest50();
}
