using Alpaca.Inference.Model;

namespace Alpaca.Inference.Torch;

/// <summary>
/// The host-side plan of one forward chunk: the tokens, positions and slots as arrays for the device, the
/// tokens grouped by sequence (a sequence with one token decodes with the others; one with several is a
/// prompt run), each slot's length after the chunk and the rows whose logits are wanted.
/// </summary>
internal sealed class ChunkPlan
{
    private ChunkPlan(long[] tokens, long[] positions, long[] slotOfToken)
    {
        Tokens = tokens;
        Positions = positions;
        SlotOfToken = slotOfToken;
    }

    public long[] Tokens { get; }

    public long[] Positions { get; }

    public long[] SlotOfToken { get; }

    public List<Run> Runs { get; } = [];

    public long[] DecodeRows { get; private set; } = [];

    public long[] DecodeSlots { get; private set; } = [];

    /// <summary>Per slot (all of them): the position its decode query is at, 0 for slots not decoding.</summary>
    public long[] DecodeLastPosition { get; private set; } = [];

    /// <summary>Cache positions the decode attention reads: the longest decoding sequence's length.</summary>
    public int DecodeVisible { get; private set; }

    public long[] LogitRows { get; private set; } = [];

    public List<(int Slot, int Length)> FinalLengths { get; } = [];

    public static ChunkPlan Build(Batch batch, int start, int n, int slots)
    {
        var plan = new ChunkPlan(new long[n], new long[n], new long[n]);
        var bySlot = new Dictionary<int, List<int>>();
        var logitRows = new List<long>();
        for (var i = 0; i < n; i++)
        {
            var slot = batch.Sequences[start + i];
            plan.Tokens[i] = batch.Tokens[start + i];
            plan.Positions[i] = batch.Positions[start + i];
            plan.SlotOfToken[i] = slot;
            if (!bySlot.TryGetValue(slot, out var rows))
            {
                bySlot[slot] = rows = [];
            }

            rows.Add(i);
            if (batch.WantsLogits[start + i])
            {
                logitRows.Add(i);
            }
        }

        var decodeRows = new List<long>();
        var decodeSlots = new List<long>();
        plan.DecodeLastPosition = new long[slots];
        foreach (var (slot, rows) in bySlot)
        {
            var first = (int)plan.Positions[rows[0]];
            plan.FinalLengths.Add((slot, first + rows.Count));
            if (rows.Count == 1)
            {
                decodeRows.Add(rows[0]);
                decodeSlots.Add(slot);
                plan.DecodeLastPosition[slot] = first;
                plan.DecodeVisible = Math.Max(plan.DecodeVisible, first + 1);
            }
            else
            {
                plan.Runs.Add(new Run(slot, first, rows.Select(r => (long)r).ToArray()));
            }
        }

        plan.DecodeRows = [.. decodeRows];
        plan.DecodeSlots = [.. decodeSlots];
        plan.LogitRows = [.. logitRows];
        return plan;
    }

    /// <summary>A sequence's tokens in this chunk, at consecutive positions from <see cref="FirstPosition"/>.</summary>
    public sealed record Run(int Slot, int FirstPosition, long[] Rows);
}
