using System.Text.Json;
using System.Text.Json.Serialization;
using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage.Migrations;
using ConsensusApi.Endpoints;
using Microsoft.AspNetCore.Mvc;

namespace ConsensusApi.Serialization;

/// <summary>
/// Source-generated JSON metadata for every request and response of the API, so serialization
/// needs no reflection. The options' own converters (times, enums) still apply on top.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ArtifactRequest))]
[JsonSerializable(typeof(ArtifactBatchRequest))]
[JsonSerializable(typeof(Artifact))]
[JsonSerializable(typeof(ArtifactBatch))]
[JsonSerializable(typeof(RunUpsertRequest))]
[JsonSerializable(typeof(Run))]
[JsonSerializable(typeof(SynthesisRequest))]
[JsonSerializable(typeof(Synthesis))]
[JsonSerializable(typeof(Page<Artifact>))]
[JsonSerializable(typeof(Page<Run>))]
[JsonSerializable(typeof(Page<SpecSummary>))]
[JsonSerializable(typeof(DeleteResult))]
[JsonSerializable(typeof(MigrationStatus))]
[JsonSerializable(typeof(StorageReport))]
[JsonSerializable(typeof(PragmaReport))]
[JsonSerializable(typeof(VacuumResult))]
[JsonSerializable(typeof(BackupResult))]
[JsonSerializable(typeof(TelemetryReport))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
