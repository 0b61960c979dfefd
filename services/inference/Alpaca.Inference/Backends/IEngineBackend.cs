using Alpaca.Inference.Model;
using Alpaca.Llm.Models;

namespace Alpaca.Inference.Backends;

/// <summary>
/// What the continuous-batching scheduler drives: one forward pass over a <see cref="Batch"/> of tokens of
/// several sequences (decode tokens and prompt chunks mixed), each token writing its key and value into its
/// sequence's KV slot, and the logits of the flagged tokens out, as floats in batch order. Two
/// implementations: the CPU engine (<see cref="Transformer"/>) and the TorchSharp backend
/// (Alpaca.Inference.Torch). Not thread-safe: one forward at a time, on the decode loop.
/// </summary>
public interface IEngineBackend : IDisposable
{
    /// <summary>"cpu" (this library's kernels) or "torch" (TorchSharp).</summary>
    string Backend { get; }

    /// <summary>Where the weights and the KV cache live: "cpu", "cuda:0".</summary>
    string Device { get; }

    LlamaConfig Config { get; }

    int VocabSize { get; }

    /// <summary>Compute threads of the backend (the CPU engine's workers, libtorch's intra-op threads).</summary>
    int Threads { get; }

    /// <summary>The weight type held in memory: a GGUF type (Q4_0, F16), the file's mixture (Q4_K_M) or "mixed", or the torch dtype (BF16).</summary>
    string WeightType { get; }

    /// <summary>Bytes of weights held in memory (host or device).</summary>
    long WeightBytes { get; }

    IKvSlots Cache { get; }

    /// <summary>Rows of logits the last <see cref="Forward"/> produced, one per flagged token, in batch order.</summary>
    int LogitRows { get; }

    /// <summary>Logits of the <paramref name="index"/>-th flagged token of the last batch (valid until the next forward).</summary>
    ReadOnlySpan<float> Logits(int index);

    /// <summary>
    /// Runs the batch: writes its keys/values into the KV slots (extending each sequence) and computes the
    /// logits of the flagged tokens. Within one batch a sequence's positions must increase and leave no gap
    /// after its cached length (starting below it restarts the sequence there). Throws before touching the
    /// cache when a token, sequence or position is invalid.
    /// </summary>
    void Forward(Batch batch);
}
