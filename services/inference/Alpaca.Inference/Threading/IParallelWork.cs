namespace Alpaca.Inference.Threading;

/// <summary>
/// One parallel step, cut into <see cref="Chunks"/> independent pieces that <see cref="WorkerPool.Run"/>
/// hands out to whichever thread asks first; it returns when every chunk is done (that return is the
/// barrier). Implementations are allocated once and reused, so a step costs no allocation.
/// </summary>
public interface IParallelWork
{
    /// <summary>Number of chunks; read once when the step starts.</summary>
    int Chunks { get; }

    /// <summary>Runs one chunk on pool thread <paramref name="thread"/> (0 = the caller), e.g. to pick per-thread scratch.</summary>
    void Execute(int chunk, int thread);
}
