using System.Text.Json;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Validation;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Tests.Domain.Validation;

public class RequestValidatorTests
{
    private const string SpecIdMessage = "specId must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit.";
    private const string StageMessage = "stage must be 1-64 characters matching ^[a-z][a-z0-9._-]*$.";
    private const string NameMessage = "must be 1-128 characters without control characters.";
    private const string TimestampMessage = "must be a positive Unix time in milliseconds.";

    private static RequestValidator Validator(int maxContentBytes = 1 << 20, int maxBatchItems = 1000) =>
        new(Options.Create(new LimitsOptions { MaxContentBytes = maxContentBytes, MaxBatchItems = maxBatchItems }));

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static ArtifactRequest Valid(string content = """{"plan":1}""") => new()
    {
        SpecId = "SPEC-KIT-945",
        Stage = "spec-plan",
        AgentName = "gemini",
        Content = Json(content),
        RunTimestamp = 1764118923456,
    };

    private static IReadOnlyDictionary<string, string[]> Errors(Action validate) =>
        Assert.Throws<DomainValidationException>(validate).Errors;

    [Theory]
    [InlineData("""{"plan":1}""")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("0")]
    [InlineData("false")]
    public void ArtifactWithAnyNonNullJsonContentIsValid(string content)
    {
        Validator().Validate(Valid(content));
        Validator().Validate(Valid(content) with { RunTimestamp = null, ModelVersion = "m", PipelineRunId = "p", ResponseText = "\u0007 any text" });
    }

    [Fact]
    public void MissingContentIsReportedUnderContent()
    {
        var errors = Errors(() => Validator().Validate(Valid() with { Content = null }));

        Assert.Equal(["content"], errors.Keys);
        Assert.Equal(["content is required and must not be null."], errors["content"]);
    }

    [Fact]
    public void JsonNullContentIsReportedUnderContent()
    {
        var errors = Errors(() => Validator().Validate(Valid() with { Content = Json("null") }));

        Assert.Equal(["content is required and must not be null."], errors["content"]);
    }

    [Fact]
    public void UndefinedContentIsReportedUnderContent()
    {
        var errors = Errors(() => Validator().Validate(Valid() with { Content = default(JsonElement) }));

        Assert.Equal(["content"], errors.Keys);
    }

    [Fact]
    public void EveryInvalidFieldOfAnArtifactIsReportedAtOnce()
    {
        var request = new ArtifactRequest
        {
            SpecId = "-bad",
            Stage = "Bad",
            AgentName = "",
            Content = null,
            ModelVersion = "v\n1",
            PipelineRunId = new string('p', 129),
            RunTimestamp = -5,
        };

        var errors = Errors(() => Validator().Validate(request));

        Assert.Equal(["agentName", "content", "modelVersion", "pipelineRunId", "runTimestamp", "specId", "stage"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([SpecIdMessage], errors["specId"]);
        Assert.Equal([StageMessage], errors["stage"]);
        Assert.Equal(["agentName " + NameMessage], errors["agentName"]);
        Assert.Equal(["modelVersion " + NameMessage], errors["modelVersion"]);
        Assert.Equal(["pipelineRunId " + NameMessage], errors["pipelineRunId"]);
        Assert.Equal(["runTimestamp " + TimestampMessage], errors["runTimestamp"]);
    }

    [Fact]
    public void TrailingNewlineInSpecIdOrStageIsRejected()
    {
        var errors = Errors(() => Validator().Validate(Valid() with { SpecId = "SPEC-KIT-945\n", Stage = "spec-plan\n" }));

        Assert.Equal(["specId", "stage"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(Identifiers.MaxTimestamp + 1)]
    public void RunTimestampThatIsNotAPositiveTimeIsRejected(long timestamp)
    {
        var errors = Errors(() => Validator().Validate(Valid() with { RunTimestamp = timestamp }));

        Assert.Equal(["runTimestamp " + TimestampMessage], errors["runTimestamp"]);
    }

    [Fact]
    public void NullArtifactIsReportedUnderBody()
    {
        var errors = Errors(() => Validator().Validate((ArtifactRequest?)null));

        Assert.Equal(["body"], errors.Keys);
    }

    [Fact]
    public void ContentLargerThanTheLimitIsTooLargeNamingTheField()
    {
        // "\"aaaaaaaa\"" is 10 bytes of UTF-8.
        Validator(maxContentBytes: 10).Validate(Valid("\"aaaaaaaa\""));

        var error = Assert.Throws<ContentTooLargeException>(() => Validator(maxContentBytes: 10).Validate(Valid("\"aaaaaaaaa\"")));

        Assert.Equal("content", error.Field);
        Assert.Equal(11, error.ActualBytes);
        Assert.Equal(10, error.LimitBytes);
        Assert.Equal("content is 11 bytes; the limit is 10 bytes.", error.Message);
    }

    [Fact]
    public void ContentSizeIsMeasuredInUtf8Bytes()
    {
        // Four characters, eight bytes, plus two quotes.
        var error = Assert.Throws<ContentTooLargeException>(() => Validator(maxContentBytes: 9).Validate(Valid("\"éééé\"")));

        Assert.Equal(10, error.ActualBytes);
    }

    [Fact]
    public void FieldErrorsAreReportedBeforeContentSize()
    {
        var request = Valid("\"" + new string('x', 100) + "\"") with { Stage = "Bad" };

        var errors = Errors(() => Validator(maxContentBytes: 10).Validate(request));

        Assert.Equal(["stage"], errors.Keys);
    }

    [Fact]
    public void EveryBadBatchItemIsReportedWithItsIndex()
    {
        var batch = new ArtifactBatchRequest
        {
            Items = [Valid(), Valid() with { Stage = "x y" }, null!, Valid() with { Content = null, RunTimestamp = 0 }, Valid()],
        };

        var errors = Errors(() => Validator().Validate(batch));

        Assert.Equal(["items[1].stage", "items[2]", "items[3].content", "items[3].runTimestamp"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([StageMessage], errors["items[1].stage"]);
        Assert.Equal(["An artifact object is required."], errors["items[2]"]);
        Assert.Equal(["runTimestamp " + TimestampMessage], errors["items[3].runTimestamp"]);
    }

    [Fact]
    public void BatchItemTooLargeNamesItsIndex()
    {
        var batch = new ArtifactBatchRequest { Items = [Valid("1"), Valid("2"), Valid("\"" + new string('x', 64) + "\"")] };

        var error = Assert.Throws<ContentTooLargeException>(() => Validator(maxContentBytes: 32).Validate(batch));

        Assert.Equal("items[2].content", error.Field);
    }

    [Fact]
    public void BatchOverMaxBatchItemsIsRejectedUnderItems()
    {
        Validator(maxBatchItems: 3).Validate(new ArtifactBatchRequest { Items = [Valid(), Valid(), Valid()] });

        var errors = Errors(() => Validator(maxBatchItems: 3).Validate(new ArtifactBatchRequest { Items = [Valid(), Valid(), Valid(), Valid()] }));

        Assert.Equal(["items"], errors.Keys);
        Assert.Equal(["At most 3 items are allowed; got 4."], errors["items"]);
    }

    [Fact]
    public void EmptyOrMissingBatchIsRejectedUnderItems()
    {
        Assert.Equal(["Between 1 and 1000 items are required."], Errors(() => Validator().Validate(new ArtifactBatchRequest { Items = [] }))["items"]);
        Assert.Equal(["items"], Errors(() => Validator().Validate(new ArtifactBatchRequest())).Keys);
        Assert.Equal(["items"], Errors(() => Validator().Validate((ArtifactBatchRequest?)null)).Keys);
    }

    [Fact]
    public void RunUpsertNeedsRunTimestampAndConsensusOk()
    {
        var errors = Errors(() => RequestValidator.Validate(new RunUpsertRequest { SpecId = "SPEC-1", Stage = "spec-plan" }));

        Assert.Equal(["consensusOk", "runTimestamp"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["runTimestamp is required."], errors["runTimestamp"]);
        Assert.Equal(["consensusOk is required."], errors["consensusOk"]);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("1")]
    public void RunSynthesisMustBeAnObject(string synthesis)
    {
        var request = new RunUpsertRequest { SpecId = "SPEC-1", Stage = "spec-plan", RunTimestamp = 1, ConsensusOk = true, Synthesis = Json(synthesis) };

        var errors = Errors(() => RequestValidator.Validate(request));

        Assert.Equal(["synthesis must be a JSON object or null."], errors["synthesis"]);
    }

    [Fact]
    public void RunUpsertWithZeroTimestampIsRejected()
    {
        var errors = Errors(() => RequestValidator.Validate(new RunUpsertRequest { SpecId = "SPEC-1", Stage = "spec-plan", RunTimestamp = 0, ConsensusOk = true }));

        Assert.Equal(["runTimestamp must be a positive Unix time in milliseconds."], errors["runTimestamp"]);
    }

    [Fact]
    public void SynthesisNeedsMarkdownAndStatus()
    {
        var request = new SynthesisRequest { SpecId = "SPEC-1", Stage = "spec-plan", ArtifactsCount = -1, RunTimestamp = -1 };

        var errors = Errors(() => Validator().Validate(request));

        Assert.Equal(["artifactsCount", "outputMarkdown", "runTimestamp", "status"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["outputMarkdown is required."], errors["outputMarkdown"]);
        Assert.Equal(["status is required."], errors["status"]);
        Assert.Equal(["artifactsCount must not be negative."], errors["artifactsCount"]);
    }

    [Fact]
    public void SynthesisMarkdownOverTheLimitIsTooLarge()
    {
        var request = new SynthesisRequest { SpecId = "SPEC-1", Stage = "spec-plan", OutputMarkdown = new string('#', 11), Status = "ok" };

        var error = Assert.Throws<ContentTooLargeException>(() => Validator(maxContentBytes: 10).Validate(request));

        Assert.Equal("outputMarkdown", error.Field);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(501)]
    public void LimitOutsideOneTo500IsRejected(int limit)
    {
        var errors = Errors(() => RequestValidator.ValidateLimit(limit));

        Assert.Equal(["limit must be between 1 and 500."], errors["limit"]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(500)]
    public void LimitWithinOneTo500IsAccepted(int limit) => RequestValidator.ValidateLimit(limit);

    [Fact]
    public void RouteScopeIsValidatedWithTheContractMessages()
    {
        var errors = Errors(() => RequestValidator.ValidateScope("SPEC 1", "Plan"));

        Assert.Equal([SpecIdMessage], errors["specId"]);
        Assert.Equal([StageMessage], errors["stage"]);
        Assert.Equal([SpecIdMessage], Errors(() => RequestValidator.ValidateSpecId("")).Values.Single());
        RequestValidator.ValidateScope("SPEC-KIT-945", "speckit.specify");
    }
}
