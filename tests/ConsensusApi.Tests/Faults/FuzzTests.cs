using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ConsensusApi.Tests.Infrastructure;
using CsCheck;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// Thousands of generated requests at every endpoint of the service as a real process (CsCheck):
/// malformed and mistyped JSON, huge and deeply nested values, invalid UTF-8, control characters,
/// path segments with <c>..</c>, <c>%2F</c> and unicode, absurd query values, wrong content types,
/// missing and odd headers. Every answer is a documented success or a 4xx problem, never a 5xx;
/// afterwards the file is sound and holds no row that a refused request wrote.
/// </summary>
/// <remarks>
/// A real process, not the test server, so Kestrel parses what is sent: a request malformed at
/// the HTTP level (a null byte in the path, non-ASCII header bytes, a request line or headers
/// over Kestrel's limits) is refused by Kestrel itself with a bare 400, 414 or 431 and the
/// connection closed, before any application code runs. Those are counted apart.
/// </remarks>
public class FuzzTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GeneratedRequestsGetADocumentedSuccessOrA4xxProblemAndRefusedOnesWriteNothing()
    {
        var path = System.IO.Path.Combine(TestDatabase.NewFolder(), "consensus.db");
        var settings = new Dictionary<string, string>
        {
            // Small limits, so oversized values are reached without megabytes per request.
            ["Limits:MaxContentBytes"] = "65536",
            ["Limits:MaxRequestBodyBytes"] = "262144",
            ["Limits:MaxBatchItems"] = "20",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var index = 0;
        foreach (var (role, key) in TestKeys.ByRole)
        {
            settings[$"Auth:ApiKeys:{index}:Name"] = "fuzz-" + role;
            settings[$"Auth:ApiKeys:{index}:Key"] = key;
            settings[$"Auth:ApiKeys:{index}:Role"] = role;
            index++;
        }

        await using var service = await RunningService.StartAsync(path, settings, Ct);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            // Non-ASCII header values go on the wire as UTF-8, for Kestrel to judge.
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        var accepted = new Accepted();
        var statuses = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        var seed = FaultSettings.Seed;
        var output = TestContext.Current.TestOutputHelper;

        await Generators.Request.SampleAsync(async request =>
        {
            HttpResponseMessage response;
            try
            {
                using var message = request.ToMessage(service.Process.BaseAddress);
                response = await client.SendAsync(message, Ct);
            }
            catch (HttpRequestException) when (request.Body is { Length: > 0 })
            {
                // The server answered before reading the body (a refused request line or headers, a
                // declared length over the limit, a wrong method) and closed the connection while the
                // body was still being sent, so the answer was lost. A careful client asks first with
                // Expect: 100-continue; then the answer arrives before any of the body is sent.
                using var message = request.ToMessage(service.Process.BaseAddress, expectContinue: true);
                response = await client.SendAsync(message, Ct);
                statuses.AddOrUpdate("answered only with Expect: 100-continue", 1, (_, count) => count + 1);
            }

            using var _ = response;
            var body = await response.Content.ReadAsByteArrayAsync(Ct);
            var status = (int)response.StatusCode;
            var text = Encoding.UTF8.GetString(body);
            if (status >= 500)
            {
                await Task.Delay(500, Ct); // the console log is written asynchronously
                Assert.Fail($"{status} for {request}: {text}\nservice log: {Tail(service.Process.Output)}");
            }
            if (status is 400 or 414 or 431 && body.Length == 0 && response.Headers.ConnectionClose == true)
            {
                statuses.AddOrUpdate($"{status} (Kestrel)", 1, (_, count) => count + 1);
                return;
            }

            statuses.AddOrUpdate(status.ToString(CultureInfo.InvariantCulture), 1, (_, count) => count + 1);
            foreach (var key in request.IdempotencyKeys)
            {
                accepted.Answers.Add((key, status, request.ToString()[..Math.Min(400, request.ToString().Length)]));
            }

            if (request.Method == "HEAD")
            {
                // No body, by definition; the headers still announce a problem.
                Assert.True(status < 400 || response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{status} for {request}");
            }
            else if (status >= 400)
            {
                AssertProblem(response, status, text, request);
            }
            else
            {
                Assert.True(status is 200 or 201, $"{status} for {request}");
                if (request.Path.StartsWith("/api/", StringComparison.Ordinal))
                {
                    Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
                    accepted.Record(request, JsonDocument.Parse(body).RootElement.Clone());
                }
            }
        }, seed: Environment.GetEnvironmentVariable("CsCheck_Seed") ?? Generators.SeedText(seed), iter: FaultSettings.FuzzRequests, threads: 2, print: request => request.ToString());

        var elapsed = watch.Elapsed;
        Assert.True(await service.IsReadyAsync(Ct), "the service serves on");
        DatabaseFile.AssertConsistent(path);
        using (var connection = DatabaseFile.OpenReadOnly(path))
        {
            accepted.AssertOnlyAcceptedRowsIn(connection);
            output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed {seed}: {FaultSettings.FuzzRequests} requests in {elapsed.TotalSeconds:F1} s; statuses {string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} x{s.Value}"))}; " +
                $"rows: {DatabaseFile.Scalar(connection, "SELECT count(*) FROM consensus_artifacts")} artifacts, {DatabaseFile.Scalar(connection, "SELECT count(*) FROM consensus_runs")} runs, " +
                $"{DatabaseFile.Scalar(connection, "SELECT count(*) FROM consensus_synthesis")} syntheses"));
        }

        Assert.Equal(0, await service.StopAsync(Ct));
        Assert.DoesNotContain("fail:", service.Process.Output, StringComparison.Ordinal);
        Assert.True(statuses.Keys.Any(status => status is "200" or "201"), "some generated requests were valid and stored");
        Assert.True(statuses.Keys.Count(status => status[0] == '4') >= 5, "the generated requests reached many kinds of refusal");
    }

    private static string Tail(string log) => log.Length <= 4000 ? log : log[^4000..];

    private static void AssertProblem(HttpResponseMessage response, int status, string text, FuzzRequest request)
    {
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{status} for {request} is not problem+json ({response.Content.Headers.ContentType}): {text}");
        using var problem = JsonDocument.Parse(text);
        var root = problem.RootElement;
        foreach (var member in new[] { "type", "title", "detail" })
        {
            Assert.True(root.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0,
                $"problem member '{member}' missing for {request}: {text}");
        }

        Assert.True(root.TryGetProperty("status", out var code) && code.GetInt32() == status, $"problem status for {request}: {text}");
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    /// <summary>What the service accepted: every row in the file must come from one of these answers.</summary>
    private sealed class Accepted
    {
        private readonly ConcurrentDictionary<long, bool> _artifacts = new();
        private readonly ConcurrentDictionary<long, bool> _syntheses = new();
        private readonly ConcurrentDictionary<long, bool> _runs = new();
        private readonly ConcurrentDictionary<string, bool> _keys = new(StringComparer.Ordinal);

        /// <summary>Every answer to a request with an idempotency key, to explain a stray key.</summary>
        public ConcurrentBag<(string Key, int Status, string Request)> Answers { get; } = [];

        public void Record(FuzzRequest request, JsonElement answer)
        {
            foreach (var key in request.IdempotencyKeys)
            {
                _keys[key] = true;
            }

            if (request.Method == "POST" && request.Path == "/api/v1/artifacts")
            {
                Artifact(answer);
            }
            else if (request.Method == "POST" && request.Path == "/api/v1/artifacts/batch")
            {
                foreach (var item in answer.GetProperty("items").EnumerateArray())
                {
                    Artifact(item);
                }
            }
            else if (request.Method == "POST" && request.Path == "/api/v1/synthesis")
            {
                _syntheses[answer.GetProperty("id").GetInt64()] = true;
                _runs[answer.GetProperty("runId").GetInt64()] = true;
            }
            else if (request.Method == "PUT" && request.Path == "/api/v1/runs")
            {
                _runs[answer.GetProperty("id").GetInt64()] = true;
            }
        }

        public void AssertOnlyAcceptedRowsIn(Microsoft.Data.Sqlite.SqliteConnection connection)
        {
            AssertSubset("consensus_artifacts", "SELECT id FROM consensus_artifacts", _artifacts);
            AssertSubset("consensus_synthesis", "SELECT id FROM consensus_synthesis", _syntheses);
            AssertSubset("consensus_runs", "SELECT id FROM consensus_runs", _runs);
            var strays = DatabaseFile.Rows(connection, "SELECT key FROM idempotency_keys").Where(key => !_keys.ContainsKey(key)).ToList();
            Assert.True(strays.Count == 0, "idempotency keys stored by refused requests: " + string.Join(", ", strays.Take(5)) + "; answers with those keys: "
                + string.Join("; ", Answers.Where(answer => strays.Contains(answer.Key)).Take(10).Select(answer => $"{answer.Key} -> {answer.Status} {answer.Request}")));

            void AssertSubset(string table, string sql, ConcurrentDictionary<long, bool> ids)
            {
                var strays = DatabaseFile.Rows(connection, sql).Select(row => long.Parse(row, CultureInfo.InvariantCulture)).Where(id => !ids.ContainsKey(id)).ToList();
                var rows = strays.Take(3).Select(id => string.Join(" ", DatabaseFile.Rows(connection, $"SELECT * FROM {table} WHERE id = {id}")));
                Assert.True(strays.Count == 0, $"{table} rows no accepted request wrote: {string.Join(", ", strays.Take(10))}\nrows: {string.Join("\n", rows)}");
            }
        }

        private void Artifact(JsonElement artifact)
        {
            _artifacts[artifact.GetProperty("id").GetInt64()] = true;
            _runs[artifact.GetProperty("runId").GetInt64()] = true;
        }
    }
}

/// <summary>One generated request.</summary>
public sealed record FuzzRequest(string Method, string Path, string Query, string? Key, string? ContentType, string? Accept, string? IdempotencyKey, IReadOnlyList<(string Name, string Value)> Headers, byte[]? Body)
{
    /// <summary>
    /// The Idempotency-Key values the service may have seen: each one sent, and all of them on one
    /// line as HttpClient joins them (", "), without surrounding whitespace.
    /// </summary>
    public IEnumerable<string> IdempotencyKeys
    {
        get
        {
            // Kestrel drops the whitespace around a field value, as HTTP says.
            var sent = new[] { IdempotencyKey }.Concat(Headers.Where(h => h.Name == "Idempotency-Key").Select(h => h.Value)).OfType<string>().ToList();
            var seen = sent.Select(value => value.Trim(' ', '\t'));
            return sent.Count > 1 ? seen.Append(string.Join(", ", sent).Trim(' ', '\t')) : seen;
        }
    }

    /// <summary>The request to <paramref name="server"/>; the path goes on the wire as generated (a leading "//" stays a path).</summary>
    public HttpRequestMessage ToMessage(Uri server, bool expectContinue = false)
    {
        ArgumentNullException.ThrowIfNull(server);
        var target = new Uri(server.GetLeftPart(UriPartial.Authority) + Path + Query, UriKind.Absolute);
        Assert.True(target.IsLoopback && target.Port == server.Port, $"{this} leaves the service's address: {target}");
        var message = new HttpRequestMessage(new HttpMethod(Method), target);
        message.Headers.ExpectContinue = expectContinue;
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Body);
            message.Content.Headers.Remove("Content-Type");
            if (ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
        }

        if (Key is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Api-Key", Key);
        }

        if (Accept is not null)
        {
            message.Headers.TryAddWithoutValidation("Accept", Accept);
        }

        if (IdempotencyKey is not null)
        {
            message.Headers.TryAddWithoutValidation("Idempotency-Key", IdempotencyKey);
        }

        foreach (var (name, value) in Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return message;
    }

    public override string ToString()
    {
        var body = Body is null ? "(no body)" : Encoding.UTF8.GetString(Body);
        return $"{Method} {Path}{Query} key={Key ?? "-"} content-type={ContentType ?? "-"} accept={Accept ?? "-"} idempotency-key={Shorten(IdempotencyKey ?? "-")} " +
            $"headers=[{string.Join("; ", Headers.Select(h => h.Name + ": " + Shorten(h.Value)))}] body({Body?.Length ?? 0} bytes)={Shorten(body)}";
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + $"...({text.Length} chars)";
}

/// <summary>The generators of <see cref="FuzzTests"/>.</summary>
internal static class Generators
{
    private static readonly string[] Stages = ["spec-plan", "spec-tasks", "speckit.specify", "spec-validate", "spec-audit"];

    /// <summary>CsCheck's seed text for a number, so <c>FAULTS_SEED</c> replays a run.</summary>
    public static string SeedText(int seed) => new PCG((uint)seed, (ulong)seed).ToString();

    /// <summary>Text that breaks things: control characters, lone surrogates, quotes, unicode, path tricks.</summary>
    private static readonly Gen<string> Nasty = Gen.OneOf(
        Gen.Const(""), Gen.Const(" "), Gen.Const(".."), Gen.Const("../../etc/passwd"), Gen.Const("a/b"), Gen.Const("%2F"), Gen.Const("\0"),
        Gen.Const("\u0001\u0007\u001b[31m"), Gen.Const("\t\r\n"), Gen.Const("\uD800"), Gen.Const("\uDC00x"), Gen.Const("é"), Gen.Const("中文"),
        Gen.Const("🙂"), Gen.Const("\u202E"), Gen.Const("\"'`"), Gen.Const("<script>"), Gen.Const("' OR 1=1 --"), Gen.Const("NULL"),
        Gen.String[Gen.Char, 0, 40], Gen.String[Gen.Char[(char)0, (char)0x1F], 1, 10], Gen.Int[1, 300].Select(n => new string('s', n)));

    private static readonly Gen<string> ValidSpec = Gen.Int[0, 5].Select(n => "SPEC-FUZZ-" + n.ToString(CultureInfo.InvariantCulture));
    private static readonly Gen<string> ValidStage = Gen.OneOf(Stages.Select(Gen.Const).ToArray());

    private static readonly Gen<string> Segment = Gen.Frequency(
        (10, ValidSpec),
        (4, ValidStage),
        (2, Gen.OneOf(Gen.Const(".."), Gen.Const("."), Gen.Const("%2F"), Gen.Const("%2e%2e"), Gen.Const("%2e%2e%2f"), Gen.Const("a%2Fb"), Gen.Const("%00"),
            Gen.Const("%FF%FE"), Gen.Const("%C3%28"), Gen.Const("%E2%80%AE"), Gen.Const("%F0%9F%99%82"), Gen.Const("%20"), Gen.Const("%25"), Gen.Const("~"))),
        (1, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (2, Nasty.Select(Uri.EscapeDataString)),
        (1, Gen.Int[129, 2000].Select(n => new string('x', n))));

    private static readonly Gen<string> Id = Gen.Frequency(
        (6, Gen.Int[1, 40].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOf(Gen.Const("99999999999999999999999"), Gen.Const("1.5"), Gen.Const("-0"), Gen.Const("0x10"), Gen.Const("1e3"), Gen.Const("abc"), Gen.Const("%2F"))));

    /// <summary>A path: mostly the service's routes with generated segments, sometimes anything.</summary>
    private static readonly Gen<string> Path = Gen.Frequency(
        (3, Gen.Const("/api/v1/artifacts")),
        (2, Gen.Const("/api/v1/artifacts/batch")),
        (2, Gen.Const("/api/v1/runs")),
        (2, Gen.Const("/api/v1/synthesis")),
        (2, Id.Select(id => "/api/v1/artifacts/" + id)),
        (2, Id.Select(id => "/api/v1/runs/" + id)),
        (3, Gen.Select(Segment, Segment).Select((spec, stage) => $"/api/v1/specs/{spec}/stages/{stage}/artifacts")),
        (2, Gen.Select(Segment, Segment).Select((spec, stage) => $"/api/v1/specs/{spec}/stages/{stage}/runs")),
        (2, Gen.Select(Segment, Segment).Select((spec, stage) => $"/api/v1/specs/{spec}/stages/{stage}/runs/latest")),
        (2, Gen.Select(Segment, Segment).Select((spec, stage) => $"/api/v1/specs/{spec}/stages/{stage}/synthesis/latest")),
        (2, Gen.Const("/api/v1/specs")),
        (2, Segment.Select(spec => "/api/v1/specs/" + spec)),
        (2, Gen.Select(Segment, Segment).Select((spec, stage) => $"/api/v1/specs/{spec}/stages/{stage}")),
        (1, Gen.OneOf(Gen.Const("/api/v1/admin/migrations"), Gen.Const("/api/v1/admin/storage"), Gen.Const("/api/v1/admin/pragmas"),
            Gen.Const("/api/v1/admin/telemetry"), Gen.Const("/api/v1/admin/vacuum"), Gen.Const("/api/v1/admin/backup"))),
        (1, Gen.OneOf(Gen.Const("/health/live"), Gen.Const("/health/ready"), Gen.Const("/metrics"), Gen.Const("/swagger/v1/swagger.json"), Gen.Const("/"),
            Gen.Const("/api"), Gen.Const("/api/v1"), Gen.Const("/api/v2/artifacts"), Gen.Const("//api//v1//specs"), Gen.Const("/api/v1/specs/"))),
        (1, Segment.Array[1, 6].Select(segments => "/" + string.Join('/', segments))));

    private static readonly Gen<string> QueryValue = Gen.Frequency(
        (3, Gen.Int[-5, 600].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOf(Gen.Const("99999999999999999999"), Gen.Const("-2147483649"), Gen.Const("1.5"), Gen.Const("1e9"), Gen.Const(""), Gen.Const("full"),
            Gen.Const("incremental"), Gen.Const("NaN"), Gen.Const("eyJ0cyI6MX0"), Gen.Const("MTc2NDExODkyMzQ1Njox"), Gen.Const("%00"), Gen.Const("%FF"))),
        (2, Nasty.Select(Uri.EscapeDataString)),
        (1, Gen.Int[500, 5000].Select(n => new string('A', n))));

    private static readonly Gen<string> Query = Gen.Frequency(
        (4, Gen.Const("")),
        (4, Gen.Select(Gen.OneOf(Gen.Const("limit"), Gen.Const("cursor"), Gen.Const("agentName"), Gen.Const("pages"), Gen.Const("mode"), Gen.Const("x"), Gen.Const("")), QueryValue)
            .Select((name, value) => (name, value)).Array[1, 4]
            .Select(pairs => "?" + string.Join('&', pairs.Select(p => p.name + "=" + p.value)))));

    private static readonly Gen<string> ContentType = Gen.Frequency(
        (8, Gen.Const("application/json")),
        (1, Gen.OneOf(Gen.Const("application/json; charset=utf-8"), Gen.Const("application/json; charset=latin1"), Gen.Const("application/problem+json"),
            Gen.Const("text/plain"), Gen.Const("text/json"), Gen.Const("application/xml"), Gen.Const("multipart/form-data; boundary=x"),
            Gen.Const("application/x-www-form-urlencoded"), Gen.Const(""), Gen.Const("application/"), Gen.Const("*/*"), Gen.Const("application/json; charset=\"\u00e9\""))));

    private static readonly Gen<string?> Accept = Gen.Frequency(
        (6, Gen.Const((string?)null)),
        (1, Gen.OneOf<string?>("application/json", "application/problem+json", "*/*", "text/html", "application/xml", "text/plain", "image/png;q=0.5", "", "garbage/")));

    private static readonly Gen<string?> Key = Gen.Frequency(
        (14, Gen.Const<string?>(TestKeys.For(TestKeys.Admin))),
        (2, Gen.Const<string?>(TestKeys.For(TestKeys.Writer))),
        (1, Gen.Const<string?>(TestKeys.For(TestKeys.Reader))),
        (1, Gen.Const((string?)null)),
        (1, Gen.OneOf<string?>("", " ", "wrong-key", TestKeys.Sha256Of(TestKeys.For(TestKeys.Admin)), new string('k', 5000), "admin-key-3b66c8 ", "é")));

    private static readonly Gen<string?> IdempotencyKey = Gen.Frequency(
        (6, Gen.Const((string?)null)),
        (3, Gen.Int[0, 50].Select(n => (string?)("fuzz-key-" + n.ToString(CultureInfo.InvariantCulture)))),
        (1, Gen.OneOf<string?>("", new string('i', 129), "é", "key with spaces", "\u0001", new string('i', 128))));

    private static readonly Gen<(string, string)[]> Headers = Gen.Frequency(
        (6, Gen.Const(Array.Empty<(string, string)>())),
        (1, Gen.Select(Gen.OneOf(Gen.Const("X-Junk"), Gen.Const("X-Api-Key"), Gen.Const("Idempotency-Key"), Gen.Const("Content-Length"), Gen.Const("Host"), Gen.Const("Cookie"), Gen.Const("Range")),
            Gen.Frequency((3, Gen.String[Gen.Char[' ', '~'], 0, 50]), (1, Gen.Int[1000, 20000].Select(n => new string('h', n)))))
            .Select((name, value) => (name, value)).Array[1, 3]));

    /// <summary>Raw JSON for a value that should not be there.</summary>
    private static readonly Gen<string> BadValue = Gen.Frequency(
        (3, Nasty.Select(text => JsonSerializer.Serialize(text))),
        (1, Gen.OneOf(Gen.Const("\"\\uD800\""), Gen.Const("\"\\u0000\""), Gen.Const("\"\\ud83d\""))),
        (2, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOf(Gen.Const("1e400"), Gen.Const("-1e400"), Gen.Const("-0"), Gen.Const("0.5"), Gen.Const("123456789012345678901234567890"), Gen.Const("1.0e+2"),
            Gen.Const("9223372036854775808"), Gen.Const("-9223372036854775809"), Gen.Const("2147483648"), Gen.Const("NaN"), Gen.Const("Infinity"), Gen.Const("0x10"), Gen.Const("01"))),
        (2, Gen.OneOf(Gen.Const("true"), Gen.Const("false"), Gen.Const("null"), Gen.Const("[]"), Gen.Const("{}"), Gen.Const("\"\""), Gen.Const("[1,\"a\",null]"), Gen.Const("{\"a\":{\"b\":[]}}"))),
        (1, Gen.Int[1, 300].Select(depth => new string('[', depth) + "1" + new string(']', depth))),
        (1, Gen.Int[1, 300].Select(depth => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth))),
        (1, Gen.Int[60_000, 300_000].Select(n => "\"" + new string('z', n) + "\"")));

    private static readonly Gen<string> Content = Gen.Frequency(
        (6, Gen.Int[0, 1000].Select(n => $$"""{"plan":["a","b"],"n":{{n}}}""")),
        (1, Gen.OneOf(Gen.Const("\"text\""), Gen.Const("42"), Gen.Const("[1,2,3]"), Gen.Const("{\"nested\":{\"deep\":[{\"x\":null}]}}"))),
        (1, BadValue));

    private static Gen<(string Name, string Raw)> Field(string name, Gen<string> raw) => raw.Select(value => (name, value));

    private static Gen<(string Name, string Raw)[]> Fields(params Gen<(string Name, string Raw)>[] fields) =>
        fields.Aggregate(Gen.Const(Array.Empty<(string Name, string Raw)>()), (all, field) => Gen.Select(all, field, (list, one) => list.Append(one).ToArray()));

    private static readonly Gen<string> Timestamp = Gen.Long[1, 4_000_000_000_000].Select(n => n.ToString(CultureInfo.InvariantCulture));
    private static readonly Gen<string> Text = Gen.String[Gen.Char[' ', '~'], 0, 80].Select(text => JsonSerializer.Serialize(text));
    private static readonly Gen<string> Bool = Gen.Bool.Select(b => b ? "true" : "false");

    private static readonly Gen<(string Name, string Raw)[]> ArtifactFields = Fields(
        Field("specId", ValidSpec.Select(text => JsonSerializer.Serialize(text))), Field("stage", ValidStage.Select(text => JsonSerializer.Serialize(text))),
        Field("agentName", Gen.Int[0, 9].Select(n => $"\"agent-{n}\"")), Field("content", Content), Field("responseText", Text),
        Field("modelVersion", Text), Field("pipelineRunId", Text), Field("runTimestamp", Timestamp));

    private static readonly Gen<(string Name, string Raw)[]> RunFields = Fields(
        Field("specId", ValidSpec.Select(text => JsonSerializer.Serialize(text))), Field("stage", ValidStage.Select(text => JsonSerializer.Serialize(text))),
        Field("runTimestamp", Timestamp), Field("consensusOk", Bool), Field("degraded", Bool), Field("synthesis", Gen.OneOf(Gen.Const("{\"notes\":\"x\"}"), Gen.Const("null"), Content)));

    private static readonly Gen<(string Name, string Raw)[]> SynthesisFields = Fields(
        Field("specId", ValidSpec.Select(text => JsonSerializer.Serialize(text))), Field("stage", ValidStage.Select(text => JsonSerializer.Serialize(text))),
        Field("outputMarkdown", Text), Field("outputPath", Text), Field("status", Gen.OneOf(Gen.Const("\"ok\""), Gen.Const("\"degraded\""), Text)),
        Field("artifactsCount", Gen.Int[-3, 10].Select(n => n.ToString(CultureInfo.InvariantCulture))), Field("agreements", Text), Field("conflicts", Text),
        Field("degraded", Bool), Field("consensusOk", Bool), Field("pipelineRunId", Text), Field("runTimestamp", Timestamp));

    /// <summary>Changes to a valid object: a value replaced, a field dropped, an unknown or duplicate field added.</summary>
    private static Gen<string> Mutated(Gen<(string Name, string Raw)[]> fields) =>
        Gen.Select(fields, Gen.Select(Gen.Int[0, 3], Gen.Int[0, 20], BadValue).Select((kind, index, value) => (kind, index, value)).Array[0, 3])
            .Select((valid, mutations) =>
            {
                var list = valid.ToList();
                foreach (var (kind, index, value) in mutations)
                {
                    var at = list.Count == 0 ? 0 : index % list.Count;
                    switch (kind)
                    {
                        case 0 when list.Count > 0:
                            list[at] = (list[at].Name, value);
                            break;
                        case 1 when list.Count > 0:
                            list.RemoveAt(at);
                            break;
                        case 2:
                            list.Add(("unknown" + index.ToString(CultureInfo.InvariantCulture), value));
                            break;
                        case 3 when list.Count > 0:
                            list.Add((list[at].Name, value));
                            break;
                    }
                }

                return "{" + string.Join(",", list.Select(field => JsonSerializer.Serialize(field.Name) + ":" + field.Raw)) + "}";
            });

    private static readonly Gen<string> Json = Gen.Frequency(
        (5, Mutated(ArtifactFields)),
        (3, Mutated(ArtifactFields).Array[0, 25].Select(items => "{\"items\":[" + string.Join(",", items) + "]}")),
        (3, Mutated(RunFields)),
        (3, Mutated(SynthesisFields)),
        (1, BadValue),
        (1, Gen.OneOf(Gen.Const(""), Gen.Const("{"), Gen.Const("}"), Gen.Const("{\"items\":"), Gen.Const("[{}]"), Gen.Const("{\"items\":[null]}"), Gen.Const("{\"items\":{}}"),
            Gen.Const("{'specId':'SPEC-1'}"), Gen.Const("{\"specId\":\"SPEC-1\",}"), Gen.Const("/* c */{}"), Gen.Const("{} {}"))));

    /// <summary>The body's bytes: the JSON as is, cut short, with invalid UTF-8 or a BOM, or random bytes.</summary>
    private static Gen<byte[]?> Encoded(Gen<string> json) => Gen.Frequency(
        (10, json.Select(text => (byte[]?)Encoding.UTF8.GetBytes(text))),
        (2, Gen.Select(json, Gen.Int[0, 1000]).Select((text, cut) => (byte[]?)Encoding.UTF8.GetBytes(text)[..Math.Min(cut, Encoding.UTF8.GetByteCount(text))])),
        (2, Gen.Select(json, Gen.Int[0, 1000], Gen.OneOf<byte[]>([0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x00], [0xC0, 0xAF]))
            .Select((text, at, bad) =>
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                var position = Math.Min(at, bytes.Length);
                return (byte[]?)[.. bytes[..position], .. bad, .. bytes[position..]];
            })),
        (1, json.Select(text => (byte[]?)[0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)])),
        (1, Gen.Byte.Array[0, 2000].Select(bytes => (byte[]?)bytes)),
        (1, Gen.Const((byte[]?)null)));

    private static readonly Gen<string> Batch = Mutated(ArtifactFields).Array[0, 25].Select(items => "{\"items\":[" + string.Join(",", items) + "]}");

    private static readonly Gen<string> Method = Gen.Frequency(
        (6, Gen.Const("POST")), (4, Gen.Const("GET")), (2, Gen.Const("PUT")), (2, Gen.Const("DELETE")), (1, Gen.Const("PATCH")), (1, Gen.Const("OPTIONS")), (1, Gen.Const("HEAD")));

    private static Gen<(string Method, string Path, byte[]? Body)> Call(string method, Gen<string> path, Gen<byte[]?> body) =>
        Gen.Select(path, body).Select((p, b) => (method, p, b));

    /// <summary>Mostly the service's operations with their own method and a body of their kind; sometimes anything.</summary>
    private static readonly Gen<(string Method, string Path, byte[]? Body)> Operation = Gen.Frequency(
        (6, Call("POST", Gen.Const("/api/v1/artifacts"), Encoded(Mutated(ArtifactFields)))),
        (3, Call("POST", Gen.Const("/api/v1/artifacts/batch"), Encoded(Batch))),
        (3, Call("PUT", Gen.Const("/api/v1/runs"), Encoded(Mutated(RunFields)))),
        (3, Call("POST", Gen.Const("/api/v1/synthesis"), Encoded(Mutated(SynthesisFields)))),
        (5, Call("GET", Path, Gen.Frequency((9, Gen.Const((byte[]?)null)), (1, Encoded(Json))))),
        (1, Call("DELETE", Path, Gen.Const((byte[]?)null))),
        (1, Call("POST", Gen.OneOf(Gen.Const("/api/v1/admin/vacuum"), Gen.Const("/api/v1/admin/backup")), Gen.Const((byte[]?)null))),
        (3, Gen.Select(Method, Path, Encoded(Json)).Select((m, p, b) => (m, p, b))));

    /// <summary>A whole request.</summary>
    public static readonly Gen<FuzzRequest> Request = Gen.Select(Operation, Query, Key, ContentType, Accept, IdempotencyKey, Headers,
        (operation, query, key, contentType, accept, idempotencyKey, headers) =>
            new FuzzRequest(operation.Method, operation.Path, query, key, contentType, accept, idempotencyKey, headers, operation.Body));
}
