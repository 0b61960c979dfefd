namespace Alpaca.Trainer.Training;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its callback on the reporting (training) thread, in order.
/// <see cref="Progress{T}"/> would post to the thread pool and could reorder steps.
/// </summary>
public sealed class InlineProgress<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
