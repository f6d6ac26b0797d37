using System.Globalization;
using System.Text.Json;
using ConsensusApi.Serialization;

namespace ConsensusApi.Tests.Serialization;

public sealed class UtcTimestampConverterTests
{
    private static readonly JsonSerializerOptions Options = new() { Converters = { new UtcTimestampConverter() } };

    [Theory]
    [InlineData("2026-11-26T01:02:03.456+00:00", "2026-11-26T01:02:03.456Z")]
    [InlineData("2026-11-26T03:02:03.456+02:00", "2026-11-26T01:02:03.456Z")]
    [InlineData("2026-11-26T00:30:00.000-01:00", "2026-11-26T01:30:00.000Z")]
    [InlineData("1970-01-01T00:00:00+00:00", "1970-01-01T00:00:00.000Z")]
    [InlineData("0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00.000Z")]
    [InlineData("9999-12-31T23:59:59.9999999+00:00", "9999-12-31T23:59:59.999Z")]
    [InlineData("2024-02-29T09:08:07.0019999+00:00", "2024-02-29T09:08:07.001Z")]
    public void WritesUtcWithMillisecondsTruncated(string value, string expected)
    {
        var time = DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);

        Assert.Equal($"\"{expected}\"", JsonSerializer.Serialize(time, Options));
        Assert.Equal(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), expected);
    }

    [Fact]
    public void ReadsWhatItWrites()
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(1_795_684_385_726);

        Assert.Equal(time, JsonSerializer.Deserialize<DateTimeOffset>(JsonSerializer.Serialize(time, Options), Options));
    }
}
