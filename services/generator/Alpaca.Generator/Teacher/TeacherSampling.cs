namespace Alpaca.Generator.Teacher;

/// <summary>
/// Decoding arguments sent with every request. Defaults are the reference's: <c>max_tokens=3072</c>
/// ("hard-code to maximize the length"), temperature 1.0, top-p 1.0, <c>n=1</c>,
/// <c>stop=["\n20", "20.", "20."]</c> (the duplicate is the reference's), <c>logit_bias={"50256": -100}</c>
/// (bans GPT's <c>&lt;|endoftext|&gt;</c>; pass an empty map for teachers with another vocabulary).
/// </summary>
public sealed record TeacherSampling
{
    public static readonly IReadOnlyList<string> ReferenceStop = ["\n20", "20.", "20."];

    public static readonly IReadOnlyDictionary<string, int> ReferenceLogitBias = new Dictionary<string, int> { ["50256"] = -100 };

    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    public int MaxTokens { get; init; } = 3072;

    public IReadOnlyList<string> Stop { get; init; } = ReferenceStop;

    public IReadOnlyDictionary<string, int> LogitBias { get; init; } = ReferenceLogitBias;

    public double PresencePenalty { get; init; }

    public double FrequencyPenalty { get; init; }
}
