using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.IO.Hashing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Alpaca.State;

/// <summary>
/// The embedded default: state in a local folder. A value is one file replaced atomically
/// (write a temporary file, flush to disk, rename). A list is an append-only file of records
/// <c>[length:int32][crc32:uint32][bytes]</c>, flushed to disk on every append; a torn record at
/// the end (a crash mid-append) fails its length or checksum test and is cut off on the next open,
/// so an append either happened completely or not at all. A corrupt record in the middle is skipped
/// (the scan resynchronises on the next valid frame), logged, counted in <see cref="CorruptRecordsSkipped"/>
/// and its bytes copied to <c>{list}.corrupt-{offset}</c> beside the list; the records after it survive.
/// A value with an expiry is a <c>.ttl</c> file <c>[expiresAtUnixMs:int64][bytes]</c>; expired ones read as
/// absent and are swept at most every <see cref="SweepInterval"/>. Leases: see LocalFolderStateStore.Leases.cs.
/// Calls within a process are serialised by a lock. Values and leases may be shared by several processes
/// (leases and fenced writes take an OS file lock too); lists assume one process owns them (offsets are cached).
/// </summary>
public sealed partial class LocalFolderStateStore : IStateStore, IDisposable
{
    private const string ValueSuffix = ".val";
    private const string ExpiringSuffix = ".ttl";
    private const string ListSuffix = ".list";
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(10);
    private static readonly Meter Meter = new("Alpaca.State");
    private static readonly Counter<long> CorruptRecords = Meter.CreateCounter<long>("alpaca_state_corrupt_list_records", description: "Corrupt list records skipped in local-folder lists.");
    private readonly string _root;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<string, List<long>> _listOffsets = new(StringComparer.Ordinal);
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;
    private long _corruptRecordsSkipped;

    public LocalFolderStateStore(string root, ILogger<LocalFolderStateStore>? logger = null)
    {
        _root = Path.GetFullPath(root);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Directory.CreateDirectory(_root);
    }

    public string Root => _root;

    /// <summary>Corrupt spans skipped in list files since this store was opened.</summary>
    public long CorruptRecordsSkipped => Interlocked.Read(ref _corruptRecordsSkipped);

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key, ValueSuffix);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : ReadExpiring(key);
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
            DeleteIfExists(PathOf(key, ExpiringSuffix));
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task SetWithExpiryAsync(string key, ReadOnlyMemory<byte> value, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(expiry, TimeSpan.Zero);
        var path = PathOf(key, ExpiringSuffix);
        var bytes = new byte[8 + value.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, (DateTimeOffset.UtcNow + expiry).ToUnixTimeMilliseconds());
        value.Span.CopyTo(bytes.AsSpan(8));
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            WriteAtomically(path, bytes);
            DeleteIfExists(PathOf(key, ValueSuffix));
            if (DateTimeOffset.UtcNow - _lastSweep > SweepInterval)
            {
                SweepExpired();
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Deletes every expired value now (also done by writes, at most every ten minutes); returns how many.</summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return SweepExpired();
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
            if (File.Exists(path) || ReadExpiring(key) is not null)
            {
                return false;
            }

            WriteAtomically(path, value.Span);
            DeleteIfExists(PathOf(key, ExpiringSuffix));
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
            foreach (var path in new[] { PathOf(key, ValueSuffix), PathOf(key, ExpiringSuffix), PathOf(key, ListSuffix) })
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
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return AppendLocked(listKey, item.Span);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Appends one framed record and fsyncs; the caller holds <c>_lock</c>.</summary>
    private long AppendLocked(string listKey, ReadOnlySpan<byte> item)
    {
        var path = PathOf(listKey, ListSuffix);
        var offsets = LoadOffsets(listKey, path);
        var header = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(header, item.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Crc32.HashToUInt32(item));
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var offset = stream.Position;
        stream.Write(header);
        stream.Write(item);
        stream.Flush(flushToDisk: true);
        offsets.Add(offset);
        return offsets.Count;
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
            var values = Directory.EnumerateFiles(_root, "*" + ValueSuffix, SearchOption.AllDirectories).Select(f => KeyOf(f, ValueSuffix));
            var expiring = Directory.EnumerateFiles(_root, "*" + ExpiringSuffix, SearchOption.AllDirectories).Select(f => KeyOf(f, ExpiringSuffix))
                .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && ReadExpiring(k) is not null);
            return values
                .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Concat(expiring)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    private string KeyOf(string file, string suffix) => Path.GetRelativePath(_root, file)[..^suffix.Length].Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>The value of an expiring key, or null when absent or expired (an expired file is deleted).</summary>
    private byte[]? ReadExpiring(string key)
    {
        var path = PathOf(key, ExpiringSuffix);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8 || BinaryPrimitives.ReadInt64LittleEndian(bytes) <= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
        {
            File.Delete(path);
            return null;
        }

        return bytes[8..];
    }

    private int SweepExpired()
    {
        _lastSweep = DateTimeOffset.UtcNow;
        var swept = 0;
        foreach (var file in Directory.EnumerateFiles(_root, "*" + ExpiringSuffix, SearchOption.AllDirectories).ToList())
        {
            if (ReadExpiring(KeyOf(file, ExpiringSuffix)) is null)
            {
                swept++;
            }
        }

        return swept;
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    private string PathOf(string key, string suffix)
    {
        StateKey.Validate(key);
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar) + suffix);
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Unique per call, not per PID: replicas sharing the folder are all PID 1 in their containers.
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(value);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Scans a list file once, remembering record offsets: corrupt records in the middle are skipped and
    /// reported, a torn tail record is cut off.
    /// </summary>
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
            var scan = ListFileScanner.Scan(stream);
            offsets = scan.Offsets;
            foreach (var (start, end) in scan.CorruptSpans)
            {
                Quarantine(key, path, stream, start, end);
            }

            if (scan.ValidLength < stream.Length)
            {
                stream.SetLength(scan.ValidLength); // a torn append from a crash: it never completed, so it never happened
            }
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }

        _listOffsets[key] = offsets;
        return offsets;
    }

    /// <summary>Keeps a copy of a corrupt span beside the list (once) so that it can be inspected; the list itself is left as it is.</summary>
    private void Quarantine(string key, string path, FileStream stream, long start, long end)
    {
        Interlocked.Increment(ref _corruptRecordsSkipped);
        CorruptRecords.Add(1);
        var quarantine = $"{path}.corrupt-{start}";
        if (!File.Exists(quarantine))
        {
            var bytes = new byte[end - start];
            stream.Position = start;
            stream.ReadExactly(bytes);
            File.WriteAllBytes(quarantine, bytes);
        }

        LogCorruptSpan(key, start, end, quarantine);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "List {Key}: bytes {Start}..{End} are not a valid record and were skipped; a copy is in {Quarantine}")]
    private partial void LogCorruptSpan(string key, long start, long end, string quarantine);
}
