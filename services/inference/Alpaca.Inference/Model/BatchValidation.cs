using Alpaca.Inference.Backends;

namespace Alpaca.Inference.Model;

/// <summary>What a forward pass checks before it touches the KV cache: every token, slot and position of a batch.</summary>
internal static class BatchValidation
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the batch entry at fault.</summary>
    public static void Check(Batch batch, IKvSlots cache, int vocabSize)
    {
        if (batch.Count == 0)
        {
            throw new ArgumentException("The batch is empty.", nameof(batch));
        }

        Span<int> lengths = stackalloc int[cache.Slots];
        Span<int> last = stackalloc int[cache.Slots];
        for (var s = 0; s < cache.Slots; s++)
        {
            lengths[s] = cache.IsAllocated(s) ? cache.Length(s) : -1;
            last[s] = -1;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            var token = batch.Tokens[i];
            var seq = batch.Sequences[i];
            var pos = batch.Positions[i];
            if ((uint)token >= (uint)vocabSize)
            {
                throw new ArgumentException($"Batch entry {i}: token id {token} is outside the vocabulary (0..{vocabSize - 1}).", nameof(batch));
            }

            if ((uint)seq >= (uint)cache.Slots || lengths[seq] < 0)
            {
                throw new ArgumentException($"Batch entry {i}: sequence {seq} has no allocated KV cache slot.", nameof(batch));
            }

            if (pos < 0 || pos > lengths[seq])
            {
                throw new ArgumentException($"Batch entry {i}: position {pos} of sequence {seq} would leave a gap (the sequence has {lengths[seq]} positions).", nameof(batch));
            }

            if (pos >= cache.ContextLength)
            {
                throw new ArgumentException($"Batch entry {i}: position {pos} is past the context length {cache.ContextLength}.", nameof(batch));
            }

            // All keys and values of a batch are stored before attention runs, so one batch must not
            // write a sequence's position twice (a restart belongs in the next batch).
            if (pos <= last[seq])
            {
                throw new ArgumentException($"Batch entry {i}: position {pos} of sequence {seq} is not after its previous position {last[seq]} in this batch.", nameof(batch));
            }

            last[seq] = pos;
            lengths[seq] = pos + 1;
        }
    }
}
