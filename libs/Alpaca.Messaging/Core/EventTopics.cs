using Alpaca.Contracts.V1;
using Google.Protobuf.Reflection;

namespace Alpaca.Messaging;

/// <summary>
/// The topic of each integration event. The trailing <c>.v1</c> is the contract's major version: a
/// breaking change is published on a new topic beside the old one while consumers migrate.
/// </summary>
public static class EventTopics
{
    public const string CandidatesProduced = "alpaca.candidates-produced.v1";
    public const string InstructionDecided = "alpaca.instruction-decided.v1";
    public const string DatasetPublished = "alpaca.dataset-published.v1";
    public const string TrainingProgress = "alpaca.training-progress.v1";
    public const string ModelPublished = "alpaca.model-published.v1";

    private static readonly Dictionary<string, string> ByType = new(StringComparer.Ordinal)
    {
        [Contracts.V1.CandidatesProduced.Descriptor.FullName] = CandidatesProduced,
        [Contracts.V1.InstructionDecided.Descriptor.FullName] = InstructionDecided,
        [Contracts.V1.DatasetPublished.Descriptor.FullName] = DatasetPublished,
        [Contracts.V1.TrainingProgress.Descriptor.FullName] = TrainingProgress,
        [Contracts.V1.ModelPublished.Descriptor.FullName] = ModelPublished,
    };

    /// <summary>The topic of an event type; unknown types are a programming error.</summary>
    public static string For(MessageDescriptor descriptor) =>
        ByType.TryGetValue(descriptor.FullName, out var topic)
            ? topic
            : throw new InvalidOperationException($"No topic is registered for event type {descriptor.FullName}.");
}
