using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Validation;

namespace ConsensusApi.Tests.Domain.Validation;

public class CursorTests
{
    [Theory]
    [InlineData(1764118923456, 17)]
    [InlineData(1, 0)]
    [InlineData(long.MaxValue, long.MaxValue)]
    [InlineData(-5, 3)]
    public void NumericCursorRoundTrips(long timestamp, long id)
    {
        var cursor = Cursor.Encode(timestamp, id);

        Assert.Equal((timestamp, id), Cursor.DecodeNumeric(cursor));
    }

    [Theory]
    [InlineData("SPEC-KIT-945")]
    [InlineData("a")]
    [InlineData("key:with:colons")]
    public void KeyedCursorRoundTrips(string key)
    {
        var cursor = Cursor.Encode(1764118923456, key);

        Assert.Equal((1764118923456, key), Cursor.DecodeKeyed(cursor));
    }

    [Fact]
    public void CursorIsUrlSafeText()
    {
        Assert.Matches("^[A-Za-z0-9_-]+$", Cursor.Encode(long.MaxValue, long.MaxValue));
        Assert.Matches("^[A-Za-z0-9_-]+$", Cursor.Encode(1764118923456, "SPEC-KIT-945~?/"));
    }

    [Fact]
    public void NoCursorMeansTheFirstPage()
    {
        Assert.Null(Cursor.DecodeNumeric(null));
        Assert.Null(Cursor.DecodeKeyed(null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("not a cursor")]
    [InlineData("MTc2NDExODkyMzQ1Ng")] // "1764118923456"
    [InlineData("OjU")] // ":5"
    [InlineData("eDox")] // "x:1"
    [InlineData("MTo")] // "1:"
    [InlineData("MTotNQ")] // "1:-5"
    [InlineData("MTo1eA")] // "1:5x"
    [InlineData("MTogNQ")] // "1: 5"
    [InlineData("OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ")] // "99999999999999999999:1"
    [InlineData("NTpTUEVD")] // "5:SPEC", a keyed cursor
    public void GarbageNumericCursorIsRejectedUnderTheCursorKey(string cursor)
    {
        var error = Assert.Throws<DomainValidationException>(() => Cursor.DecodeNumeric(cursor));

        Assert.Equal(["cursor"], error.Errors.Keys);
        Assert.Equal(["cursor is not a value returned as nextCursor by this list."], error.Errors["cursor"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("YWJj")] // "abc"
    [InlineData("MTo")] // "1:"
    [InlineData("eDpTUEVD")] // "x:SPEC"
    public void GarbageKeyedCursorIsRejectedUnderTheCursorKey(string cursor)
    {
        var error = Assert.Throws<DomainValidationException>(() => Cursor.DecodeKeyed(cursor));

        Assert.Equal(["cursor"], error.Errors.Keys);
    }

    [Fact]
    public void OverlongCursorIsRejectedBeforeDecoding()
    {
        var error = Assert.Throws<DomainValidationException>(() => Cursor.DecodeNumeric(new string('A', 513)));

        Assert.Equal(["cursor"], error.Errors.Keys);
    }
}
