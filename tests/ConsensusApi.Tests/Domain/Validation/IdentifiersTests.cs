using ConsensusApi.Domain.Validation;

namespace ConsensusApi.Tests.Domain.Validation;

public class IdentifiersTests
{
    [Theory]
    [InlineData("SPEC-KIT-945")]
    [InlineData("a")]
    [InlineData("9")]
    [InlineData("spec_1.2-x")]
    [InlineData("0.-_")]
    public void SpecIdsOfTheContractAreAccepted(string specId) => Assert.True(Identifiers.IsSpecId(specId));

    [Fact]
    public void SpecIdOf128CharactersIsAcceptedAnd129Rejected()
    {
        Assert.True(Identifiers.IsSpecId(new string('S', 128)));
        Assert.False(Identifiers.IsSpecId(new string('S', 129)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-SPEC")]
    [InlineData(".SPEC")]
    [InlineData("_SPEC")]
    [InlineData("SPEC KIT")]
    [InlineData("SPEC/945")]
    [InlineData("SPEC:945")]
    [InlineData("spéc")]
    [InlineData("SPEC\n")]
    [InlineData("SPEC\r\n")]
    [InlineData("\nSPEC")]
    public void SpecIdsOutsideTheContractAreRejected(string? specId) => Assert.False(Identifiers.IsSpecId(specId));

    [Theory]
    [InlineData("speckit.specify")]
    [InlineData("spec-plan")]
    [InlineData("spec-tasks")]
    [InlineData("spec-implement")]
    [InlineData("spec-validate")]
    [InlineData("spec-audit")]
    [InlineData("spec-unlock")]
    [InlineData("spec-clarify")]
    [InlineData("spec-analyze")]
    [InlineData("spec-checklist")]
    [InlineData("a")]
    [InlineData("stage_2.v1")]
    public void StagesOfTheContractAreAccepted(string stage) => Assert.True(Identifiers.IsStage(stage));

    [Fact]
    public void StageOf64CharactersIsAcceptedAnd65Rejected()
    {
        Assert.True(Identifiers.IsStage(new string('s', 64)));
        Assert.False(Identifiers.IsStage(new string('s', 65)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Spec-plan")]
    [InlineData("SPEC-PLAN")]
    [InlineData("1plan")]
    [InlineData("-plan")]
    [InlineData(".plan")]
    [InlineData("spec plan")]
    [InlineData("spec/plan")]
    [InlineData("spec-plan\n")]
    public void StagesOutsideTheContractAreRejected(string? stage) => Assert.False(Identifiers.IsStage(stage));

    [Theory]
    [InlineData("gemini")]
    [InlineData("Claude 3.5 Sonnet")]
    [InlineData("agent/with:any-punctuation!")]
    [InlineData("café ✓")]
    [InlineData(" ")]
    public void AgentNamesWithoutControlCharactersAreAccepted(string name) => Assert.True(Identifiers.IsName(name));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("gem\tini")]
    [InlineData("gemini\n")]
    [InlineData("\0")]
    [InlineData("bell\u0007")]
    [InlineData("del\u007f")]
    [InlineData("next-line\u0085")]
    public void AgentNamesEmptyOrWithControlCharactersAreRejected(string? name) => Assert.False(Identifiers.IsName(name));

    [Fact]
    public void AgentNameOf128CharactersIsAcceptedAnd129Rejected()
    {
        Assert.True(Identifiers.IsName(new string('n', 128)));
        Assert.False(Identifiers.IsName(new string('n', 129)));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(1764118923456, true)]
    [InlineData(Identifiers.MaxTimestamp, true)]
    [InlineData(Identifiers.MaxTimestamp + 1, false)]
    [InlineData(0, false)]
    [InlineData(-1, false)]
    [InlineData(long.MinValue, false)]
    public void TimestampsArePositiveMillisecondsUpToYear9999(long value, bool valid) => Assert.Equal(valid, Identifiers.IsTimestamp(value));

    [Fact]
    public void MaxTimestampIsTheLastMillisecondOfYear9999()
    {
        Assert.Equal(Identifiers.MaxTimestamp, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds());
    }
}
