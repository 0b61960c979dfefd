using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Alpaca.Llm.Gguf;

/// <summary>A read-only block of bytes with a stable address: a memory-mapped file or a native copy.</summary>
internal abstract unsafe partial class MappedMemory : IDisposable
{
    public abstract byte* Pointer { get; }

    public abstract long Length { get; }

    public abstract void Dispose();

    /// <summary>Drops the resident pages wholly inside [start, start + bytes) where that is safe; returns the bytes dropped.</summary>
    public virtual long Release(byte* start, long bytes) => 0;

    /// <summary>Maps a whole file read-only. An empty file gets an empty block (mapping it would fail).</summary>
    public static MappedMemory MapFile(string path)
    {
        // The length of what the path resolves to: FileInfo.Length of a symlink (every file of a Hugging Face cache
        // snapshot is one) is the length of the link's target path, not of the file.
        var info = new FileInfo(path);
        var length = info.LinkTarget is null ? info.Length : ((info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo)?.Length ?? 0);
        return length == 0 ? new NativeMemoryBlock([]) : new MappedFileMemory(path, length);
    }

    public static MappedMemory Copy(ReadOnlySpan<byte> bytes) => new NativeMemoryBlock(bytes);

    private sealed class MappedFileMemory : MappedMemory
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private byte* _pointer;

        public MappedFileMemory(string path, long length)
        {
            // Read sharing lets other processes (and other readers) open the same model at the same time.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            _file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _pointer = p + _view.PointerOffset;
            Length = length;
        }

        public override byte* Pointer => _pointer;

        public override long Length { get; }

        /// <summary>
        /// <c>madvise(MADV_DONTNEED)</c> on the read-only file mapping: the page table entries go (and with them
        /// the pages' share of RSS; the page cache keeps or evicts them as memory needs), a later read faults
        /// the file's bytes back in. Only pages wholly inside the range, so neighbouring tensors keep theirs.
        /// </summary>
        public override long Release(byte* start, long bytes)
        {
            if (_pointer == null || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
            {
                return 0;
            }

            var page = Environment.SystemPageSize;
            var first = ((long)start + page - 1) / page * page;
            var end = ((long)start + bytes) / page * page;
            if (end <= first)
            {
                return 0;
            }

            return Madvise((void*)first, (nuint)(end - first), MadvDontNeed) == 0 ? end - first : 0;
        }

        public override void Dispose()
        {
            if (_pointer != null)
            {
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
                _pointer = null;
            }

            _view.Dispose();
            _file.Dispose();
        }
    }

    // MADV_DONTNEED is 4 on Linux and macOS.
    private const int MadvDontNeed = 4;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* address, nuint length, int advice);

    private sealed class NativeMemoryBlock : MappedMemory
    {
        private byte* _pointer;

        public NativeMemoryBlock(ReadOnlySpan<byte> bytes)
        {
            // 64-byte aligned so tensor data keeps the alignment the file promises.
            _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, bytes.Length), 64);
            bytes.CopyTo(new Span<byte>(_pointer, bytes.Length));
            Length = bytes.Length;
        }

        public override byte* Pointer => _pointer;

        public override long Length { get; }

        public override void Dispose()
        {
            if (_pointer != null)
            {
                NativeMemory.AlignedFree(_pointer);
                _pointer = null;
            }
        }
    }
}
