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
/// Time per part of the forward pass, summed over the passes run while it is attached
/// (<see cref="Transformer.Profile"/>): wall time, or with <see cref="ThreadCpu"/> the calling thread's CPU
/// time (with one engine thread that is all the work, and time the OS gave to other processes does not
/// count — the figure to use on a shared machine). What <c>alpaca bench --decode-batch</c> prints per
/// step, so a figure says where a step's time goes. Costs two clock reads per step of the pass; detached
/// (null) it costs nothing.
/// </summary>
public sealed class ForwardProfile
{
    private readonly long[] _ticks = new long[Enum.GetValues<ForwardPart>().Length];

    /// <param name="threadCpu">Time the parts by the calling thread's CPU clock instead of the wall clock (Linux; elsewhere wall).</param>
    public ForwardProfile(bool threadCpu = false)
    {
        ThreadCpu = threadCpu && Benchmarking.ProcessCpuClock.ThreadNanoseconds() >= 0;
    }

    public static IReadOnlyList<ForwardPart> Parts { get; } = Enum.GetValues<ForwardPart>();

    /// <summary>True when the parts are the calling thread's CPU time, false when wall time.</summary>
    public bool ThreadCpu { get; }

    /// <summary>Forward passes (chunks) timed.</summary>
    public int Passes { get; internal set; }

    public double Milliseconds(ForwardPart part) => ToMilliseconds(_ticks[(int)part]);

    public double TotalMilliseconds => ToMilliseconds(_ticks.Sum());

    /// <summary>The clock the parts are read from (Stopwatch ticks, or thread CPU nanoseconds).</summary>
    internal long Now() => ThreadCpu ? Benchmarking.ProcessCpuClock.ThreadNanoseconds() : Stopwatch.GetTimestamp();

    internal void Add(ForwardPart part, long ticks) => _ticks[(int)part] += ticks;

    private double ToMilliseconds(long ticks) => ThreadCpu ? ticks / 1e6 : ticks * 1000.0 / Stopwatch.Frequency;

    public void Reset()
    {
        Array.Clear(_ticks);
        Passes = 0;
    }
}
