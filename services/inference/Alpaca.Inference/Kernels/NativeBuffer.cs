using System.Runtime.InteropServices;

namespace Alpaca.Inference.Kernels;

/// <summary>
/// Zeroed, 64-byte aligned native memory: packed weights and scratch buffers live here so that the GC
/// never moves or scans them and SIMD loads never split a cache line at a row start.
/// </summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    private void* _pointer;

    /// <param name="zero">
    /// Clear the memory. Large buffers that are written before they are read (the KV cache) skip it,
    /// so the OS commits their pages only when first touched.
    /// </param>
    public NativeBuffer(long bytes, bool zero = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Bytes = bytes;
        var size = (nuint)Math.Max(bytes, 64);
        _pointer = NativeMemory.AlignedAlloc(size, 64);
        if (zero)
        {
            NativeMemory.Clear(_pointer, size);
        }
    }

    public long Bytes { get; }

    public byte* Pointer => _pointer != null ? (byte*)_pointer : throw new ObjectDisposedException(nameof(NativeBuffer));

    public T* As<T>()
        where T : unmanaged => (T*)Pointer;

    public Span<T> AsSpan<T>(long offsetBytes, int count)
        where T : unmanaged
    {
        if (offsetBytes < 0 || offsetBytes + (long)count * sizeof(T) > Bytes)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"[{offsetBytes}, +{count}×{sizeof(T)}) is outside a {Bytes}-byte buffer.");
        }

        return new Span<T>(Pointer + offsetBytes, count);
    }

    public void Dispose()
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
