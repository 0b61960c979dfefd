using System.Diagnostics;

namespace Alpaca.Inference.Model;

/// <summary>The parts of a forward pass <see cref="ForwardProfile"/> times, in the order they run.</summary>
public enum ForwardPart
{
    /// <summary>Token embedding lookup and each token's RoPE cos/sin.</summary>
    Embed,

    /// <summary>Residual adds, RMSNorms and the activations' fp16/Q8 forms (the per-token steps).</summary>
    Norms,

    /// <summary>q, k, v = xb·Wq, xb·Wk, xb·Wv (one parallel step).</summary>
    Qkv,

    /// <summary>RoPE, KV store (encode), KV gather (decode) and attention, per sequence × KV head.</summary>
    Attention,

    /// <summary>o_proj.</summary>
    OutputProjection,

    /// <summary>gate and up, SiLU·mul and the Q8 form of h (one fused step).</summary>
    GateUp,

    /// <summary>down_proj.</summary>
    Down,

    /// <summary>The final norm of the logit tokens and the LM head.</summary>
    LmHead,
}

/// <summary>
/// Wall time per part of the forward pass, summed over the passes run while it is attached
/// (<see cref="Transformer.Profile"/>), and the time the calling thread waited in the worker pool for
/// chunks other threads were still running (<see cref="Threading.WorkerPool.WaitTicks"/>). What
/// <c>alpaca bench --decode-batch</c> prints per step, so a figure says where a step's time goes. Costs
/// two timestamps per step of the pass; detached (null) it costs nothing.
/// </summary>
public sealed class ForwardProfile
{
    private readonly long[] _ticks = new long[Enum.GetValues<ForwardPart>().Length];

    public static IReadOnlyList<ForwardPart> Parts { get; } = Enum.GetValues<ForwardPart>();

    /// <summary>Forward passes (chunks) timed.</summary>
    public int Passes { get; internal set; }

    public double Milliseconds(ForwardPart part) => _ticks[(int)part] * 1000.0 / Stopwatch.Frequency;

    public double TotalMilliseconds => _ticks.Sum() * 1000.0 / Stopwatch.Frequency;

    internal void Add(ForwardPart part, long ticks) => _ticks[(int)part] += ticks;

    public void Reset()
    {
        Array.Clear(_ticks);
        Passes = 0;
    }
}
