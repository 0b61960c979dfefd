namespace Alpaca.Inference.Sampling;

/// <summary>
/// How the next token is chosen. Applied in this order (the Hugging Face / vLLM order):
/// penalties on the raw logits → temperature → top-k → top-p → min-p → draw. Temperature 0 is greedy
/// (argmax after penalties). Penalties look at the last <see cref="PenaltyLastN"/> tokens of the
/// context (prompt and completion), as llama.cpp does.
/// </summary>
public sealed record SamplingParams
{
    /// <summary>Greedy decoding, no penalties.</summary>
    public static SamplingParams Greedy { get; } = new() { Temperature = 0 };

    /// <summary>Divides the logits; 0 = greedy.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens; 0 = off.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p; 1 = off.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens less likely than min_p × the most likely one; 0 = off.</summary>
    public float MinP { get; init; }

    /// <summary>CTRL-style: a seen token's positive logit is divided by it, a negative one multiplied; 1 = off.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>OpenAI-style: logit −= count × frequency_penalty.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>OpenAI-style: logit −= presence_penalty if the token occurred.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>How many recent tokens the penalties consider; −1 = the whole context.</summary>
    public int PenaltyLastN { get; init; } = 64;

    /// <summary>RNG seed: the same seed, logits and parameters give the same tokens. Null = random.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Most likely alternatives to report with each token's log-probability (0..20).</summary>
    public int TopLogProbs { get; init; }

    public bool IsGreedy => Temperature <= 0f;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when a value is out of range.</summary>
    public SamplingParams Validate()
    {
        Check(float.IsFinite(Temperature) && Temperature >= 0, nameof(Temperature), Temperature, "must be ≥ 0");
        Check(TopK >= 0, nameof(TopK), TopK, "must be ≥ 0");
        Check(TopP is > 0 and <= 1, nameof(TopP), TopP, "must be in (0, 1]");
        Check(MinP is >= 0 and <= 1, nameof(MinP), MinP, "must be in [0, 1]");
        Check(float.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0, nameof(RepetitionPenalty), RepetitionPenalty, "must be > 0");
        Check(float.IsFinite(FrequencyPenalty) && FrequencyPenalty is >= -2 and <= 2, nameof(FrequencyPenalty), FrequencyPenalty, "must be in [-2, 2]");
        Check(float.IsFinite(PresencePenalty) && PresencePenalty is >= -2 and <= 2, nameof(PresencePenalty), PresencePenalty, "must be in [-2, 2]");
        Check(PenaltyLastN >= -1, nameof(PenaltyLastN), PenaltyLastN, "must be ≥ -1");
        Check(TopLogProbs is >= 0 and <= 20, nameof(TopLogProbs), TopLogProbs, "must be in 0..20");
        return this;

        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok)
            {
                throw new ArgumentException($"Sampling parameter {name} = {value} {rule}.");
            }
        }
    }
}
