namespace Alpaca.Dedup.Rouge;

/// <summary>ROUGE-L precision, recall and F1 exactly as <c>rouge_scorer._score_lcs</c> computes them.</summary>
public readonly record struct RougeScore(double Precision, double Recall, double FMeasure, int Lcs)
{
    /// <summary>
    /// P = L/len(prediction), R = L/len(target), F = 2PR/(P+R) in doubles in exactly that order.
    /// The order matters: F is not always the double nearest 2L/(m+n) (e.g. 0.7000000000000001).
    /// </summary>
    public static RougeScore FromLcs(int lcs, int targetLength, int predictionLength)
    {
        if (targetLength == 0 || predictionLength == 0)
        {
            return default;
        }

        var precision = (double)lcs / predictionLength;
        var recall = (double)lcs / targetLength;
        return new RougeScore(precision, recall, ComputeF(precision, recall), lcs);
    }

    public static double ComputeF(double precision, double recall) =>
        precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;

    /// <summary>F1 of an LCS for lengths m (target) and n (prediction).</summary>
    public static double F(int lcs, int targetLength, int predictionLength) =>
        lcs == 0 || targetLength == 0 || predictionLength == 0 ? 0.0 : FromLcs(lcs, targetLength, predictionLength).FMeasure;

    /// <summary>Scores two texts with the rouge_score tokenizer and the reference LCS.</summary>
    public static RougeScore Score(string target, string prediction)
    {
        var vocabulary = new TokenVocabulary();
        var t = vocabulary.Intern(target);
        var p = vocabulary.Intern(prediction);
        return FromLcs(Rouge.Lcs.Compute(t, p), t.Length, p.Length);
    }
}
