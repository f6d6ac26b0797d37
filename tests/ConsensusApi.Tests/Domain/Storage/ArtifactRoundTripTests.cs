using System.Text.Json;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Domain.Storage;

public class ArtifactRoundTripTests
{
    [Fact]
    public async Task StoredArtifactReadsBackWithTheSameContentFromTheNormalizedSchema()
    {
        await using var db = await TestDatabase.OpenAsync();
        var ct = TestContext.Current.CancellationToken;
        var repository = db.Get<ArtifactRepository>();
        var content = JsonDocument.Parse("""{"plan":["a","b"],"score":0.5}""").RootElement;

        var stored = await repository.StoreAsync(new ArtifactRequest
        {
            SpecId = "SPEC-KIT-945", Stage = "spec-plan", AgentName = "gemini", Content = content,
            ResponseText = "raw", ModelVersion = "gemini-2.5-pro", PipelineRunId = "p-1", RunTimestamp = 1764118923456,
        }, key: null, ct);
        var read = await repository.GetAsync(stored.Value.Id, ct);

        Assert.True(stored.Created);
        Assert.Equal(1764118923456, read.RunTimestamp);
        Assert.Equal("gemini", read.AgentName);
        Assert.True(JsonElement.DeepEquals(content, read.Content));
        Assert.Equal("raw", read.ResponseText);
        Assert.Equal(new DualWriteSnapshot(1, 1, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }
}
