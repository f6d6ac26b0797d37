#:property PublishAot=false
// Soak driver: many concurrent clients against a running ConsensusApi for a fixed time, sampling the
// service's memory, file descriptors, connections and storage. Run through load-tests/soak.sh.
// dotnet run load-tests/soak-driver.cs -- --url http://127.0.0.1:5080 --pid 1234 --db PATH --clients 100 --seconds 300 --csv out.csv
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

var settings = Settings.Parse(args);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.Clients, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    BaseAddress = settings.Url,
    Timeout = TimeSpan.FromSeconds(60),
};
var latencies = new ConcurrentQueue<double>();
var statuses = new ConcurrentDictionary<string, long>();
var samples = new List<Sample>();
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Seconds));
var clock = Stopwatch.StartNew();

var idle = await SampleAsync();
Console.WriteLine("idle: " + idle.Line());
var clients = Enumerable.Range(0, settings.Clients).Select(client => Task.Run(() => ClientAsync(client, stop.Token))).ToArray();
var csv = new StringBuilder("seconds,requests_per_s,p50_ms,p99_ms,errors,rss_mb,rss_anon_mb,gc_heap_mb,threads,fds,pool_open,pool_in_use,file_mb,freelist_mb,wal_mb\n");
while (!stop.IsCancellationRequested)
{
    try
    {
        await Task.Delay(TimeSpan.FromSeconds(settings.SampleSeconds), stop.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }

    var sample = await SampleAsync();
    samples.Add(sample);
    csv.AppendLine(sample.Csv());
    Console.WriteLine(sample.Line());
}

await Task.WhenAll(clients);
var final = await SampleAsync();
samples.Add(final);
csv.AppendLine(final.Csv());
await File.WriteAllTextAsync(settings.CsvPath, csv.ToString());
return Report.Print(idle, samples, statuses, settings);

async Task ClientAsync(int client, CancellationToken token)
{
    var random = new Random(client);
    for (var round = 0; !token.IsCancellationRequested; round++)
    {
        var spec = $"SPEC-SOAK-{client}-{round % 50}";
        var choice = random.Next(100);
        var watch = Stopwatch.StartNew();
        HttpResponseMessage? response = null;
        try
        {
            response = choice switch
            {
                < 25 => await http.PostAsJsonAsync("/api/v1/artifacts", Artifact(spec, random, round), CancellationToken.None),
                < 30 => await http.PostAsJsonAsync("/api/v1/artifacts/batch", new { items = Enumerable.Range(0, 5).Select(_ => Artifact(spec, random, round)).ToArray() }, CancellationToken.None),
                < 35 => await http.PostAsJsonAsync("/api/v1/synthesis", new { specId = spec, stage = "spec-plan", outputMarkdown = new string('s', random.Next(200, 2000)), status = "ok", runTimestamp = 1764118923456 + round }, CancellationToken.None),
                < 40 => await http.PutAsJsonAsync("/api/v1/runs", new { specId = spec, stage = "spec-audit", runTimestamp = 1764118923456 + round, consensusOk = random.Next(2) == 0 }, CancellationToken.None),
                // Specs are deleted about as fast as they fill, so the data stays about the same size.
                < 45 => await http.DeleteAsync(new Uri($"/api/v1/specs/SPEC-SOAK-{client}-{(round + 25) % 50}", UriKind.Relative), CancellationToken.None),
                < 70 => await http.GetAsync(new Uri($"/api/v1/specs/{spec}/stages/spec-plan/artifacts?limit=20", UriKind.Relative), CancellationToken.None),
                < 80 => await http.GetAsync(new Uri($"/api/v1/specs/{spec}/stages/spec-audit/runs/latest", UriKind.Relative), CancellationToken.None),
                < 90 => await http.GetAsync(new Uri($"/api/v1/specs/{spec}/stages/spec-plan/synthesis/latest", UriKind.Relative), CancellationToken.None),
                _ => await http.GetAsync(new Uri("/api/v1/specs?limit=20", UriKind.Relative), CancellationToken.None),
            };
            _ = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            statuses.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
        }
        catch (HttpRequestException ex)
        {
            statuses.AddOrUpdate("error: " + ex.HttpRequestError, 1, (_, n) => n + 1);
        }
        catch (TaskCanceledException)
        {
            statuses.AddOrUpdate("error: timeout", 1, (_, n) => n + 1);
        }
        finally
        {
            response?.Dispose();
        }

        latencies.Enqueue(watch.Elapsed.TotalMilliseconds);
    }
}

static object Artifact(string spec, Random random, int round) => new
{
    specId = spec,
    stage = "spec-plan",
    agentName = "agent-" + random.Next(4).ToString(CultureInfo.InvariantCulture),
    content = new { round, text = new string('c', random.Next(100, 1500)) },
    responseText = new string('r', random.Next(100, 2000)),
    runTimestamp = 1764118923456 + round,
};

async Task<Sample> SampleAsync()
{
    var window = new List<double>();
    while (latencies.TryDequeue(out var latency))
    {
        window.Add(latency);
    }

    window.Sort();
    var telemetry = await http.GetFromJsonAsync<JsonElement>("/api/v1/admin/telemetry");
    var storage = await http.GetFromJsonAsync<JsonElement>("/api/v1/admin/storage");
    var status = File.ReadAllLines($"/proc/{settings.Pid}/status");
    double Kb(string key) => double.Parse(status.First(line => line.StartsWith(key, StringComparison.Ordinal)).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    var gcHeap = await GcHeapMbAsync();
    return new Sample(
        clock.Elapsed.TotalSeconds,
        window.Count / settings.SampleSeconds,
        Percentile(window, 0.50),
        Percentile(window, 0.99),
        statuses.Where(s => s.Key.StartsWith("error", StringComparison.Ordinal) || s.Key.StartsWith('5')).Sum(s => s.Value),
        Kb("VmRSS:") / 1024,
        Kb("RssAnon:") / 1024,
        gcHeap,
        (int)Kb("Threads:"),
        Directory.GetFiles($"/proc/{settings.Pid}/fd").Length,
        telemetry.GetProperty("pool").GetProperty("open").GetInt32(),
        telemetry.GetProperty("pool").GetProperty("inUse").GetInt32(),
        new FileInfo(settings.DatabasePath).Length / 1048576.0,
        storage.GetProperty("freelistBytes").GetInt64() / 1048576.0,
        storage.GetProperty("walBytes").GetInt64() / 1048576.0);
}

// The managed heap as the service's own meters report it (prometheus-net exports the runtime's).
async Task<double> GcHeapMbAsync()
{
    var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
    var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("dotnet_gc_heap_size_bytes", StringComparison.Ordinal)
        || l.StartsWith("dotnet_total_memory_bytes", StringComparison.Ordinal));
    return line is null ? double.NaN : double.Parse(line.Split(' ')[^1], CultureInfo.InvariantCulture) / 1048576.0;
}

static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

sealed record Sample(double Seconds, double Rps, double P50, double P99, long Errors, double RssMb, double AnonMb, double GcHeapMb, int Threads, int Fds, int PoolOpen, int PoolInUse, double FileMb, double FreelistMb, double WalMb)
{
    public string Csv() => string.Create(CultureInfo.InvariantCulture,
        $"{Seconds:F0},{Rps:F0},{P50:F1},{P99:F1},{Errors},{RssMb:F1},{AnonMb:F1},{GcHeapMb:F1},{Threads},{Fds},{PoolOpen},{PoolInUse},{FileMb:F2},{FreelistMb:F2},{WalMb:F2}");

    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"{Seconds,5:F0} s  {Rps,6:F0} req/s  p50 {P50,6:F1} ms  p99 {P99,7:F1} ms  errors {Errors}  RSS {RssMb,6:F1} MB (anon {AnonMb,6:F1})  GC heap {GcHeapMb,6:F1} MB  threads {Threads}  fds {Fds}  pool {PoolOpen} open/{PoolInUse} in use  file {FileMb:F1} MB  free {FreelistMb:F2} MB  WAL {WalMb:F2} MB");
}

sealed record Settings(Uri Url, int Pid, string DatabasePath, int Clients, int Seconds, double SampleSeconds, string CsvPath, int PoolSize)
{
    public static Settings Parse(string[] args)
    {
        string Value(string name, string? fallback = null) =>
            Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException("missing " + name);
        return new Settings(
            new Uri(Value("--url")),
            int.Parse(Value("--pid"), CultureInfo.InvariantCulture),
            Value("--db"),
            int.Parse(Value("--clients", "100"), CultureInfo.InvariantCulture),
            int.Parse(Value("--seconds", "300"), CultureInfo.InvariantCulture),
            double.Parse(Value("--sample-seconds", "10"), CultureInfo.InvariantCulture),
            Value("--csv", "soak.csv"),
            int.Parse(Value("--pool-size", "10"), CultureInfo.InvariantCulture));
    }
}

static class Report
{
    /// <summary>
    /// The stated bounds, checked on the samples after the first minute (warm-up). Memory is the
    /// anonymous part of RSS: the file-backed part is the memory-mapped database (mmap_size) and
    /// the assemblies, pages the kernel can drop, and it follows the file's size.
    /// </summary>
    public static int Print(Sample idle, List<Sample> samples, ConcurrentDictionary<string, long> statuses, Settings settings)
    {
        var warm = samples.Where(s => s.Seconds >= 60).ToList();
        if (warm.Count < 2)
        {
            warm = samples;
        }

        var first = warm[0];
        var last = warm[^1];
        var checks = new List<(string What, bool Ok)>
        {
            ($"anonymous memory idle {idle.AnonMb:F0} MB, after warm-up {first.AnonMb:F0} MB -> end {last.AnonMb:F0} MB (max {warm.Max(s => s.AnonMb):F0}; RSS with the mapped file {last.RssMb:F0} MB); bound: end <= warm-up + 64 MB",
                last.AnonMb <= first.AnonMb + 64),
            ($"threads {first.Threads} -> {last.Threads} (max {warm.Max(s => s.Threads)}); bound: end <= warm-up + 16", last.Threads <= first.Threads + 16),
            ($"file descriptors idle {idle.Fds}, after warm-up {first.Fds} -> end {last.Fds} (max {warm.Max(s => s.Fds)}); bound: max <= idle + clients + 3 x pool size + 16 = {idle.Fds + settings.Clients + (3 * settings.PoolSize) + 16}",
                warm.Max(s => s.Fds) <= idle.Fds + settings.Clients + (3 * settings.PoolSize) + 16),
            ($"pool connections open max {samples.Max(s => s.PoolOpen)}; bound: <= Database:PoolSize {settings.PoolSize}", samples.Max(s => s.PoolOpen) <= settings.PoolSize),
            ($"WAL max {samples.Max(s => s.WalMb):F1} MB; bound: <= 36 MB (checkpoint at 32 MB + one batch)", samples.Max(s => s.WalMb) <= 36),
            ($"errors (5xx, failed connections, timeouts): {statuses.Where(s => s.Key.StartsWith("error", StringComparison.Ordinal) || s.Key.StartsWith('5')).Sum(s => s.Value)}; bound: 0",
                !statuses.Keys.Any(k => k.StartsWith("error", StringComparison.Ordinal) || k.StartsWith('5'))),
        };
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{settings.Clients} clients for {settings.Seconds} s: {statuses.Values.Sum()} requests ({statuses.Values.Sum() / (double)settings.Seconds:F0}/s); statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}"))}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"p50 {warm.Average(s => s.P50):F1} ms, p99 {warm.Average(s => s.P99):F1} ms (averages of {settings.SampleSeconds} s windows after warm-up); file {last.FileMb:F1} MB, free {last.FreelistMb:F2} MB"));
        foreach (var (what, ok) in checks)
        {
            Console.WriteLine((ok ? "PASS  " : "FAIL  ") + what);
        }

        return checks.All(c => c.Ok) ? 0 : 1;
    }
}
