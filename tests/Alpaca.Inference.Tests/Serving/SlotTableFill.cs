using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;

namespace Alpaca.Inference.Tests.Serving;

/// <summary>Writes a sequence's tokens into a <see cref="SlotTable"/> as a forward pass would (no model).</summary>
internal static class SlotTableFill
{
    public static void Fill(SlotTable table, int slot, int[] tokens, int from = 0)
    {
        var batch = new Batch();
        batch.AddSequence(tokens[from..], from, slot);
        table.Prepare(batch);
        for (var i = from; i < tokens.Length; i++)
        {
            table.Commit(slot, i, tokens[i]);
        }
    }
}
