using ConsensusApi.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ConsensusApi.Tests.OpenApi;

/// <summary>Swagger UI in a real headless Chromium (Debian's package) against the service as a real process.</summary>
public class SwaggerUiBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task SwaggerUiListsTheOperationsAndTryItOutOnAListEndpointShowsA200()
    {
        Assert.SkipUnless(File.Exists(Chromium) || Repository.OnCi, $"{Chromium} is not installed (bash .ci/prepare installs it).");
        var ct = TestContext.Current.CancellationToken;
        await using var service = ServiceProcess.Start(TestDatabase.NewFolder());
        Assert.True(await service.WaitUntilReadyAsync(TimeSpan.FromSeconds(60), ct), service.Output);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(service.BaseAddress, "/swagger/index.html").ToString());

        var operations = page.Locator(".opblock");
        await operations.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        var listed = await operations.CountAsync();
        Assert.True(listed >= 20, $"Swagger UI lists every operation; it listed {listed}: " + string.Join(", ", await page.Locator(".opblock-summary-path").AllInnerTextsAsync()));
        Assert.Equal(1, await page.Locator("button.authorize").CountAsync());

        var listSpecs = page.Locator("#operations-Specs-ListSpecs");
        await listSpecs.Locator(".opblock-summary").ClickAsync();
        await listSpecs.Locator("button.execute").ClickAsync();
        var status = listSpecs.Locator(".live-responses-table .response .response-col_status").First;
        await status.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });

        Assert.Equal("200", (await status.InnerTextAsync()).Trim());
        var body = await listSpecs.Locator(".live-responses-table .response-col_description .microlight").First.InnerTextAsync();
        Assert.Contains("\"items\"", body, StringComparison.Ordinal);
    }
}
