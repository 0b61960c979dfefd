namespace Alpaca.Inference.Sampling;

/// <summary>Log-softmax of raw logits (the model's distribution, before penalties and temperature).</summary>
public static class LogProbs
{
    public static TokenLogProb Of(ReadOnlySpan<float> logits, int token, int top)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits)
        {
            max = MathF.Max(max, v);
        }

        var sum = 0.0;
        foreach (var v in logits)
        {
            sum += Math.Exp(v - max);
        }

        var logZ = max + Math.Log(sum);
        var alternatives = new List<TokenProb>(top);
        if (top > 0)
        {
            // Keep the `top` largest logits with a small insertion-sorted list (top ≤ 20).
            for (var id = 0; id < logits.Length; id++)
            {
                var value = logits[id];
                if (alternatives.Count < top || value > alternatives[^1].LogProb)
                {
                    var at = alternatives.FindIndex(a => value > a.LogProb);
                    alternatives.Insert(at < 0 ? alternatives.Count : at, new TokenProb(id, value));
                    if (alternatives.Count > top)
                    {
                        alternatives.RemoveAt(alternatives.Count - 1);
                    }
                }
            }

            for (var i = 0; i < alternatives.Count; i++)
            {
                alternatives[i] = alternatives[i] with { LogProb = (float)(alternatives[i].LogProb - logZ) };
            }
        }

        return new TokenLogProb(token, (float)(logits[token] - logZ), alternatives);
    }
}
