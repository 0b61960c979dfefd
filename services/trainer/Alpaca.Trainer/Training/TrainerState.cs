using System.Text.Json;
using System.Text.Json.Serialization;

namespace Alpaca.Trainer.Training;

/// <summary>
/// <c>trainer_state.json</c> of a resumable checkpoint: where the run is (step, epoch position), the
/// optimizer's step count, the loss curve so far, and the fingerprint of the run it belongs to.
/// Data order and dropout masks need no stored state beyond the seed and the step: both are pure
/// functions of (seed, epoch / step, micro-batch); see <c>DataOrder</c> and <c>SeededDropout</c>.
/// </summary>
public sealed record TrainerState
{
    public const int CurrentFormat = 1;

    [JsonPropertyName("format")]
    public int Format { get; init; } = CurrentFormat;

    [JsonPropertyName("global_step")]
    public long GlobalStep { get; init; }

    [JsonPropertyName("total_steps")]
    public long TotalSteps { get; init; }

    [JsonPropertyName("steps_per_epoch")]
    public long StepsPerEpoch { get; init; }

    [JsonPropertyName("epoch")]
    public double Epoch { get; init; }

    [JsonPropertyName("adam_step")]
    public long AdamStep { get; init; }

    [JsonPropertyName("seed")]
    public ulong Seed { get; init; }

    /// <summary>Data position: epoch index and optimizer step inside it that the next step will run.</summary>
    [JsonPropertyName("data_epoch")]
    public long DataEpoch { get; init; }

    [JsonPropertyName("data_step_in_epoch")]
    public long DataStepInEpoch { get; init; }

    [JsonPropertyName("rng")]
    public string Rng { get; init; } = "dropout reseeded per micro-batch from (seed, step, micro-batch); data order permutation(seed, epoch)";

    [JsonPropertyName("fingerprint")]
    public Dictionary<string, string> Fingerprint { get; init; } = [];

    [JsonPropertyName("log_history")]
    public List<LossRecord> LogHistory { get; init; } = [];

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static TrainerState Load(string path)
    {
        try
        {
            var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Options)
                ?? throw new InvalidDataException($"{path}: empty trainer state.");
            return state.Format == CurrentFormat
                ? state
                : throw new InvalidDataException($"{path}: trainer state format {state.Format} is not supported (expected {CurrentFormat}).");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }
}
