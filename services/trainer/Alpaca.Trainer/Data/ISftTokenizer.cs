namespace Alpaca.Trainer.Data;

/// <summary>
/// What supervised fine-tuning needs from a tokenizer, and nothing more: plain-text encoding (no
/// special tokens), the BOS/EOS/PAD ids, and the vocabulary length (<c>len(tokenizer)</c>).
/// </summary>
public interface ISftTokenizer
{
    /// <summary>Ids of <paramref name="text"/> without any special token added.</summary>
    IReadOnlyList<int> Encode(string text);

    string Decode(IEnumerable<int> ids);

    /// <summary>The BOS id the tokenizer prepends (LLaMA: &lt;s&gt; = 1), or null if it adds none.</summary>
    int? BosId { get; }

    int EosId { get; }

    /// <summary>The padding id, or null when the tokenizer has no pad token (train.py then adds [PAD]).</summary>
    int? PadId { get; }

    /// <summary>Number of ids including added special tokens (HF <c>len(tokenizer)</c>).</summary>
    int Count { get; }

    /// <summary>Whether <see cref="Encode"/> may be called from several threads at once.</summary>
    bool IsThreadSafe { get; }
}
