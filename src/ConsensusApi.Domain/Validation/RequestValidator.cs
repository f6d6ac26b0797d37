using System.Text.Json;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Options;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Domain.Validation;

/// <summary>
/// Validates write requests before they reach storage. Field errors are collected (all of them,
/// batch items prefixed <c>items[i].</c>) and thrown as one <see cref="DomainValidationException"/>;
/// a <c>content</c> over <see cref="LimitsOptions.MaxContentBytes"/> is a <see cref="ContentTooLargeException"/>.
/// </summary>
public sealed class RequestValidator(IOptions<LimitsOptions> limits)
{
    private readonly LimitsOptions _limits = limits.Value;

    /// <summary>Validates one artifact request.</summary>
    public void Validate(ArtifactRequest? request)
    {
        var errors = new ValidationErrors();
        if (request is null)
        {
            errors.Add("body", "A JSON object is required.");
        }
        else
        {
            CheckArtifact(request, string.Empty, errors);
        }

        errors.ThrowIfAny();
        if (request is not null)
        {
            CheckContentSize(request, "content");
        }
    }

    /// <summary>Validates a batch: its size and every item.</summary>
    public void Validate(ArtifactBatchRequest? request)
    {
        var errors = new ValidationErrors();
        var items = request?.Items;
        if (items is null || items.Count == 0)
        {
            errors.Add("items", $"Between 1 and {_limits.MaxBatchItems} items are required.");
        }
        else if (items.Count > _limits.MaxBatchItems)
        {
            errors.Add("items", $"At most {_limits.MaxBatchItems} items are allowed; got {items.Count}.");
        }
        else
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is { } item)
                {
                    CheckArtifact(item, $"items[{i}].", errors);
                }
                else
                {
                    errors.Add($"items[{i}]", "An artifact object is required.");
                }
            }
        }

        errors.ThrowIfAny();
        for (var i = 0; i < items!.Count; i++)
        {
            CheckContentSize(items[i], $"items[{i}].content");
        }
    }

    /// <summary>Validates a run upsert.</summary>
    public static void Validate(RunUpsertRequest? request)
    {
        var errors = new ValidationErrors();
        if (request is null)
        {
            errors.Add("body", "A JSON object is required.");
            errors.ThrowIfAny();
            return;
        }

        CheckSpecAndStage(request.SpecId, request.Stage, string.Empty, errors);
        if (request.RunTimestamp is not { } timestamp)
        {
            errors.Add("runTimestamp", "runTimestamp is required.");
        }
        else if (!Identifiers.IsTimestamp(timestamp))
        {
            errors.Add("runTimestamp", "runTimestamp must be a positive Unix time in milliseconds.");
        }

        if (request.ConsensusOk is null)
        {
            errors.Add("consensusOk", "consensusOk is required.");
        }

        if (request.Synthesis is { } synthesis && synthesis.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined))
        {
            errors.Add("synthesis", "synthesis must be a JSON object or null.");
        }

        errors.ThrowIfAny();
    }

    /// <summary>Validates a synthesis.</summary>
    public void Validate(SynthesisRequest? request)
    {
        var errors = new ValidationErrors();
        if (request is null)
        {
            errors.Add("body", "A JSON object is required.");
            errors.ThrowIfAny();
            return;
        }

        CheckSpecAndStage(request.SpecId, request.Stage, string.Empty, errors);
        if (request.OutputMarkdown is null)
        {
            errors.Add("outputMarkdown", "outputMarkdown is required.");
        }

        if (string.IsNullOrWhiteSpace(request.Status))
        {
            errors.Add("status", "status is required.");
        }
        else if (!Identifiers.IsName(request.Status))
        {
            errors.Add("status", "status must be 1-128 characters without control characters.");
        }

        if (request.ArtifactsCount is < 0)
        {
            errors.Add("artifactsCount", "artifactsCount must not be negative.");
        }

        if (request.OutputPath is { Length: > 4096 })
        {
            errors.Add("outputPath", "outputPath must be at most 4096 characters.");
        }

        CheckOptionalName(request.PipelineRunId, "pipelineRunId", errors);
        CheckOptionalTimestamp(request.RunTimestamp, "runTimestamp", errors);
        errors.ThrowIfAny();

        var size = System.Text.Encoding.UTF8.GetByteCount(request.OutputMarkdown!);
        if (size > _limits.MaxContentBytes)
        {
            throw new ContentTooLargeException("outputMarkdown", size, _limits.MaxContentBytes);
        }
    }

    /// <summary>Validates a spec id and stage taken from a route.</summary>
    public static void ValidateScope(string? specId, string? stage)
    {
        var errors = new ValidationErrors();
        CheckSpecAndStage(specId, stage, string.Empty, errors);
        errors.ThrowIfAny();
    }

    /// <summary>Validates a spec id taken from a route.</summary>
    public static void ValidateSpecId(string? specId)
    {
        if (!Identifiers.IsSpecId(specId))
        {
            throw DomainValidationException.For("specId", SpecIdMessage);
        }
    }

    /// <summary>Validates a page size.</summary>
    public static void ValidateLimit(int limit)
    {
        if (limit is < 1 or > PageRequest.MaxLimit)
        {
            throw DomainValidationException.For("limit", $"limit must be between 1 and {PageRequest.MaxLimit}.");
        }
    }

    private const string SpecIdMessage = "specId must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit.";
    private const string StageMessage = "stage must be 1-64 characters matching ^[a-z][a-z0-9._-]*$.";

    private static void CheckArtifact(ArtifactRequest request, string prefix, ValidationErrors errors)
    {
        CheckSpecAndStage(request.SpecId, request.Stage, prefix, errors);
        if (!Identifiers.IsName(request.AgentName))
        {
            errors.Add(prefix + "agentName", "agentName must be 1-128 characters without control characters.");
        }

        if (request.Content is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) })
        {
            errors.Add(prefix + "content", "content is required and must not be null.");
        }

        CheckOptionalName(request.ModelVersion, prefix + "modelVersion", errors);
        CheckOptionalName(request.PipelineRunId, prefix + "pipelineRunId", errors);
        CheckOptionalTimestamp(request.RunTimestamp, prefix + "runTimestamp", errors);
    }

    private void CheckContentSize(ArtifactRequest request, string field)
    {
        // The raw UTF-8 bytes as received: their length, without copying them into a string.
        var size = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(request.Content!.Value).Length;
        if (size > _limits.MaxContentBytes)
        {
            throw new ContentTooLargeException(field, size, _limits.MaxContentBytes);
        }
    }

    private static void CheckSpecAndStage(string? specId, string? stage, string prefix, ValidationErrors errors)
    {
        if (!Identifiers.IsSpecId(specId))
        {
            errors.Add(prefix + "specId", SpecIdMessage);
        }

        if (!Identifiers.IsStage(stage))
        {
            errors.Add(prefix + "stage", StageMessage);
        }
    }

    private static void CheckOptionalName(string? value, string field, ValidationErrors errors)
    {
        if (value is not null && !Identifiers.IsName(value))
        {
            errors.Add(field, $"{FieldName(field)} must be 1-128 characters without control characters.");
        }
    }

    private static void CheckOptionalTimestamp(long? value, string field, ValidationErrors errors)
    {
        if (value is { } timestamp && !Identifiers.IsTimestamp(timestamp))
        {
            errors.Add(field, $"{FieldName(field)} must be a positive Unix time in milliseconds.");
        }
    }

    private static string FieldName(string field) => field[(field.LastIndexOf('.') + 1)..];
}
