namespace Alpaca.Tokenizers.Bpe;

/// <summary>
/// Applies BPE merges inside one pre-tokenized word written in byte-level characters. The production
/// implementation is <see cref="MlBpeMerger"/> (Microsoft.ML.Tokenizers); <see cref="ReferenceBpeMerger"/>
/// is llama.cpp's loop, kept as the plain reference the tests compare it with.
/// </summary>
internal interface IBpeMerger
{
    void Merge(string word, List<int> output);
}
