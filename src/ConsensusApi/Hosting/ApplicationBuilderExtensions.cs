using System.Diagnostics.Tracing;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Telemetry;
using ConsensusApi.Endpoints;
using ConsensusApi.OpenApi;
using Microsoft.Extensions.Options;
using Prometheus;

namespace ConsensusApi.Hosting;

/// <summary>The HTTP pipeline and the routes.</summary>
internal static class ApplicationBuilderExtensions
{
    public static WebApplication UseConsensusPipeline(this WebApplication app)
    {
        // Outermost, so a request is counted with the status code the client finally receives
        // (inside the exception handler an error would still read 200 when it passes through).
        app.UseHttpMetrics();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimit>();
        app.UseMiddleware<StreamedRequestBody>();
        app.UseRequestTimeouts();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    public static WebApplication MapConsensusEndpoints(this WebApplication app)
    {
        var api = app.MapGroup("/api/v1");
        api.MapArtifactEndpoints();
        api.MapRunEndpoints();
        api.MapSynthesisEndpoints();
        api.MapSpecEndpoints();
        api.MapAdminEndpoints();

        app.MapHealthEndpoints();

        app.Services.GetRequiredService<StorageGauges>().Register();
        // prometheus-net starts its listener on .NET meters with the registry's first collection;
        // collect once now so nothing counted before the first scrape is lost. It listens to the
        // service's own meter only: UseHttpMetrics already counts and times every request, and
        // mirroring ASP.NET Core's own HTTP meters as well would measure each request twice.
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate =
            instrument => instrument.Meter.Name == ConsensusMetrics.MeterName);
        // The runtime's and ASP.NET Core's event counters still reach /metrics: counters are
        // written whatever the level. At the adapter's default (Informational) each source also
        // raises its diagnostic events, two per request from ASP.NET Core's hosting alone, each
        // an allocation the listener then throws away.
        Metrics.ConfigureEventCounterAdapter(options => options.EventSourceSettingsProvider =
            _ => new EventCounterAdapterEventSourceSettings { MinimumLevel = EventLevel.Critical });
        Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();
        app.MapMetrics("/metrics").AllowAnonymous();
        app.MapConsensusOpenApi();
        return app;
    }
}

/// <summary>Refuses a declared body over <c>Limits:MaxRequestBodyBytes</c> before reading it; Kestrel enforces the same limit on streamed bodies.</summary>
internal sealed class RequestBodyLimit(RequestDelegate next, IOptions<LimitsOptions> limits)
{
    public Task InvokeAsync(HttpContext context) =>
        context.Request.ContentLength > limits.Value.MaxRequestBodyBytes
            ? throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge)
            : next(context);
}
