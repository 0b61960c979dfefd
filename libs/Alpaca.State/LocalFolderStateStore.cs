using System.Buffers.Binary;
using System.IO.Hashing;

namespace Alpaca.State;

/// <summary>
/// The embedded default: state in a local folder. A value is one file replaced atomically
/// (write a temporary file, flush to disk, rename). A list is an append-only file of records
/// <c>[length:int32][crc32:uint32][bytes]</c>, flushed to disk on every append; a torn record at
/// the end (a crash mid-append) fails its length or checksum test and is cut off on the next open,
/// so an append either happened completely or not at all.
/// One process owns a folder; calls within it are serialised by a lock.
/// </summary>
public sealed class LocalFolderStateStore : IStateStore, IDisposable
{
    private const string ValueSuffix = ".val";
    private const string ListSuffix = ".list";
    private readonly string _root;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<string, List<long>> _listOffsets = new(StringComparer.Ordinal);

    public LocalFolderStateStore(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Root => _root;

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key, ValueSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : null;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key, ValueSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            WriteAtomically(path, value.Span);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<bool> SetIfAbsentAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key, ValueSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(path))
            {
                return false;
            }

            WriteAtomically(path, value.Span);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var deleted = false;
            foreach (var path in new[] { PathOf(key, ValueSuffix), PathOf(key, ListSuffix) })
            {
                if (File.Exists(path))
                {
                    File.Delete(path);
                    deleted = true;
                }
            }

            _listOffsets.Remove(key);
            return deleted;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<long> AppendAsync(string listKey, ReadOnlyMemory<byte> item, CancellationToken cancellationToken = default)
    {
        var path = PathOf(listKey, ListSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var offsets = LoadOffsets(listKey, path);
            var header = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(header, item.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Crc32.HashToUInt32(item.Span));
            using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
            var offset = stream.Position;
            stream.Write(header);
            stream.Write(item.Span);
            stream.Flush(flushToDisk: true);
            offsets.Add(offset);
            return offsets.Count;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<IReadOnlyList<byte[]>> ReadListAsync(string listKey, long start = 0, long count = long.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var path = PathOf(listKey, ListSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var offsets = LoadOffsets(listKey, path);
            var result = new List<byte[]>();
            if (start >= offsets.Count)
            {
                return result;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var end = (int)Math.Min(offsets.Count, start + Math.Min(count, int.MaxValue));
            var header = new byte[8];
            for (var i = (int)start; i < end; i++)
            {
                stream.Position = offsets[i];
                stream.ReadExactly(header);
                var item = new byte[BinaryPrimitives.ReadInt32LittleEndian(header)];
                stream.ReadExactly(item);
                result.Add(item);
            }

            return result;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<long> ListLengthAsync(string listKey, CancellationToken cancellationToken = default)
    {
        var path = PathOf(listKey, ListSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return LoadOffsets(listKey, path).Count;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Directory.EnumerateFiles(_root, "*" + ValueSuffix, SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(_root, f)[..^ValueSuffix.Length].Replace(Path.DirectorySeparatorChar, '/'))
                .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    private string PathOf(string key, string suffix)
    {
        StateKey.Validate(key);
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar) + suffix);
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp-" + Environment.ProcessId;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(value);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Scans a list file once, remembering record offsets; cuts off a torn tail record.</summary>
    private List<long> LoadOffsets(string key, string path)
    {
        if (_listOffsets.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var offsets = new List<long>();
        if (File.Exists(path))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            var header = new byte[8];
            long position = 0;
            while (position + 8 <= stream.Length)
            {
                stream.Position = position;
                stream.ReadExactly(header);
                var length = BinaryPrimitives.ReadInt32LittleEndian(header);
                if (length < 0 || position + 8 + length > stream.Length)
                {
                    break;
                }

                var item = new byte[length];
                stream.ReadExactly(item);
                if (Crc32.HashToUInt32(item) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)))
                {
                    break;
                }

                offsets.Add(position);
                position += 8 + length;
            }

            if (position < stream.Length)
            {
                stream.SetLength(position); // a torn append from a crash: it never completed, so it never happened
            }
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }

        _listOffsets[key] = offsets;
        return offsets;
    }
}
