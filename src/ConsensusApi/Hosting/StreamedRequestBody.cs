using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace ConsensusApi.Hosting;

/// <summary>
/// Hands the JSON binder a request body reader that survives graceful shutdown. On SIGTERM
/// Kestrel cancels every connection's pending read to wake idle connections; its body reader
/// hides that cancellation from the application, except when the last read examined bytes it
/// did not consume, which System.Text.Json's PipeReader deserializer does whenever a JSON token
/// straddles two network reads (dotnet/aspnetcore#19476). A write whose body was still arriving
/// at SIGTERM then failed with "PipeReader.ReadAsync was canceled", a 500, instead of being
/// served. Reading through the body stream consumes everything it examines, so Kestrel keeps
/// ignoring its own cancellation and the request completes within the shutdown timeout.
/// </summary>
internal sealed class StreamedRequestBody(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: true })
        {
            return next(context);
        }

        var reader = PipeReader.Create(context.Request.Body, new StreamPipeReaderOptions(leaveOpen: true));
        context.Features.Set<IRequestBodyPipeFeature>(new BodyPipe(reader));
        context.Response.RegisterForDisposeAsync(new Completion(reader));
        return next(context);
    }

    private sealed class BodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }

    private sealed class Completion(PipeReader reader) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => reader.CompleteAsync();
    }
}
