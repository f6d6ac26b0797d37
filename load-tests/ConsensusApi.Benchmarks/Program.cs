using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// Storage benchmarks of the Phase 1 checklist (Week 2 Day 4): the old path against the new.
// Run all:   dotnet run -c Release --project load-tests/ConsensusApi.Benchmarks -- --filter '*'
// Run one:   dotnet run -c Release --project load-tests/ConsensusApi.Benchmarks -- --filter '*WritePath*'
var config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(15).WithLaunchCount(1).AsDefault())
    .WithOptions(ConfigOptions.DisableLogFile);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
