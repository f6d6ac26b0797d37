using System.ComponentModel.DataAnnotations;
using ConsensusApi.Domain.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Tests.Domain.Resilience;

public class RetryOptionsTests
{
    public static TheoryData<string, string, string> InvalidValues => new()
    {
        { "MaxAttempts", "0", "Retry:MaxAttempts must be between 1 and 20." },
        { "MaxAttempts", "21", "Retry:MaxAttempts must be between 1 and 20." },
        { "InitialBackoffMs", "0", "Retry:InitialBackoffMs must be between 1 and 600000." },
        { "MaxBackoffMs", "0", "Retry:MaxBackoffMs must be between 1 and 600000." },
        { "MaxBackoffMs", "600001", "Retry:MaxBackoffMs must be between 1 and 600000." },
        { "Multiplier", "0.5", "Retry:Multiplier must be between 1.0 and 10.0." },
        { "Multiplier", "10.5", "Retry:Multiplier must be between 1.0 and 10.0." },
        { "Multiplier", "NaN", "Retry:Multiplier must be between 1.0 and 10.0." },
        { "JitterFactor", "-0.1", "Retry:JitterFactor must be between 0.0 and 1.0." },
        { "JitterFactor", "1.5", "Retry:JitterFactor must be between 0.0 and 1.0." },
        { "MaxElapsedMs", "0", "Retry:MaxElapsedMs must be between 1 and 3600000 when set." },
        { "MaxElapsedMs", "3600001", "Retry:MaxElapsedMs must be between 1 and 3600000 when set." },
    };

    [Fact]
    public void DefaultsMatchTheDesign()
    {
        var options = new RetryOptions();

        Assert.Equal("Retry", RetryOptions.SectionName);
        Assert.Equal(3, options.MaxAttempts);
        Assert.Equal(100, options.InitialBackoffMs);
        Assert.Equal(10_000, options.MaxBackoffMs);
        Assert.Equal(2.0, options.Multiplier);
        Assert.Equal(0.5, options.JitterFactor);
        Assert.Null(options.MaxElapsedMs);
    }

    [Fact]
    public void DefaultsPassBothValidators()
    {
        var options = new RetryOptions();

        Assert.Empty(DataAnnotationErrors(options));
        Assert.True(new RetryOptionsValidator().Validate(Options.DefaultName, options).Succeeded);
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void EachInvalidValueIsReportedByDataAnnotationsNamingItsKey(string key, string value, string expected)
    {
        var options = Bind(key, value);

        Assert.Equal([expected], DataAnnotationErrors(options));
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void EachInvalidValueIsReportedByTheValidatorAloneNamingItsKey(string key, string value, string expected)
    {
        var options = Bind(key, value);

        var result = new RetryOptionsValidator().Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.Failures!);
    }

    [Fact]
    public void InitialBackoffAboveMaxBackoffIsRejected()
    {
        var options = new RetryOptions { InitialBackoffMs = 5_000, MaxBackoffMs = 1_000 };

        var result = new RetryOptionsValidator().Validate(Options.DefaultName, options);

        Assert.Equal(["Retry:InitialBackoffMs must be <= Retry:MaxBackoffMs."], result.Failures);
    }

    [Fact]
    public void InitialBackoffEqualToMaxBackoffIsAccepted()
    {
        var options = new RetryOptions { InitialBackoffMs = 1_000, MaxBackoffMs = 1_000 };

        Assert.True(new RetryOptionsValidator().Validate(Options.DefaultName, options).Succeeded);
    }

    [Fact]
    public void ValidatorReportsEveryFailureAtOnce()
    {
        var options = new RetryOptions { MaxAttempts = 0, JitterFactor = 2, InitialBackoffMs = 700_000, MaxBackoffMs = 50 };

        var result = new RetryOptionsValidator().Validate(Options.DefaultName, options);

        Assert.Equal(
            [
                "Retry:MaxAttempts must be between 1 and 20.",
                "Retry:InitialBackoffMs must be between 1 and 600000.",
                "Retry:JitterFactor must be between 0.0 and 1.0.",
                "Retry:InitialBackoffMs must be <= Retry:MaxBackoffMs.",
            ],
            result.Failures);
    }

    [Fact]
    public void RegistrationBindsTheRetrySection()
    {
        using var provider = BuildProvider(new()
        {
            ["Retry:MaxAttempts"] = "5",
            ["Retry:InitialBackoffMs"] = "250",
            ["Retry:MaxBackoffMs"] = "4000",
            ["Retry:Multiplier"] = "3",
            ["Retry:JitterFactor"] = "0.25",
            ["Retry:MaxElapsedMs"] = "30000",
        });

        var options = provider.GetRequiredService<IOptions<RetryOptions>>().Value;

        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(250, options.InitialBackoffMs);
        Assert.Equal(4000, options.MaxBackoffMs);
        Assert.Equal(3.0, options.Multiplier);
        Assert.Equal(0.25, options.JitterFactor);
        Assert.Equal(30_000, options.MaxElapsedMs);
        Assert.NotNull(provider.GetRequiredService<StoragePipeline>());
    }

    [Fact]
    public void RegistrationFailsAtStartupWithEveryBadKeyNamedOnce()
    {
        using var provider = BuildProvider(new()
        {
            ["Retry:MaxAttempts"] = "0",
            ["Retry:InitialBackoffMs"] = "500",
            ["Retry:MaxBackoffMs"] = "100",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(
            ["Retry:MaxAttempts must be between 1 and 20.", "Retry:InitialBackoffMs must be <= Retry:MaxBackoffMs."],
            error.Failures);
    }

    // Binds one setting over the defaults, as the host would from appsettings.json or the environment.
    private static RetryOptions Bind(string key, string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{RetryOptions.SectionName}:{key}"] = value })
            .Build();
        var options = new RetryOptions();
        configuration.GetSection(RetryOptions.SectionName).Bind(options);
        return options;
    }

    private static ServiceProvider BuildProvider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddMetrics();
        services.AddConsensusResilience();
        return services.BuildServiceProvider();
    }

    private static List<string?> DataAnnotationErrors(RetryOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage)];
    }
}
