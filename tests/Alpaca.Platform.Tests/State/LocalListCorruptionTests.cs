using System.Text;
using Alpaca.State;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.State;

/// <summary>Bytes corrupted in the middle of a real local-folder list file.</summary>
public sealed class LocalListCorruptionTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static readonly string[] Items = ["alpha", "bravo", "charlie", "delta", "echo"];

    private async Task<string> WriteListAsync()
    {
        using var store = new LocalFolderStateStore(_dir.Path);
        foreach (var item in Items)
        {
            await store.AppendAsync("pools/ns", Encoding.UTF8.GetBytes(item));
        }

        return Path.Combine(_dir.Path, "pools", "ns.list");
    }

    /// <summary>Offset of record <paramref name="index"/>: each is an 8-byte header and its bytes.</summary>
    private static int OffsetOf(int index) => Items.Take(index).Sum(i => 8 + i.Length);

    [Fact]
    public async Task A_corrupt_payload_in_the_middle_is_skipped_reported_and_quarantined_and_later_records_survive()
    {
        var file = await WriteListAsync();
        var bytes = File.ReadAllBytes(file);
        bytes[OffsetOf(2) + 8 + 1] ^= 0xFF; // one byte of "charlie": its checksum no longer matches
        File.WriteAllBytes(file, bytes);

        using var store = new LocalFolderStateStore(_dir.Path);
        Assert.Equal(["alpha", "bravo", "delta", "echo"], (await store.ReadListAsync("pools/ns")).Select(Encoding.UTF8.GetString));
        Assert.Equal(1, store.CorruptRecordsSkipped);
        var quarantine = file + ".corrupt-" + OffsetOf(2);
        Assert.True(File.Exists(quarantine));
        Assert.Equal(8 + "charlie".Length, new FileInfo(quarantine).Length);
        Assert.Equal(bytes.Length, new FileInfo(file).Length); // the list file is not cut

        Assert.Equal(5, await store.AppendAsync("pools/ns", "foxtrot"u8.ToArray()));
        using var reopened = new LocalFolderStateStore(_dir.Path);
        Assert.Equal(["alpha", "bravo", "delta", "echo", "foxtrot"], (await reopened.ReadListAsync("pools/ns")).Select(Encoding.UTF8.GetString));
    }

    [Fact]
    public async Task A_corrupt_length_in_the_middle_resynchronises_on_the_next_valid_record()
    {
        var file = await WriteListAsync();
        var bytes = File.ReadAllBytes(file);
        bytes[OffsetOf(1) + 3] = 0x7F; // "bravo"'s length becomes huge, past the end of the file
        bytes[OffsetOf(3)] = 0; // and "delta"'s length is wrong too (0 with a non-zero checksum)
        File.WriteAllBytes(file, bytes);

        using var store = new LocalFolderStateStore(_dir.Path);
        Assert.Equal(["alpha", "charlie", "echo"], (await store.ReadListAsync("pools/ns")).Select(Encoding.UTF8.GetString));
        Assert.Equal(3, await store.ListLengthAsync("pools/ns"));
        Assert.Equal(2, store.CorruptRecordsSkipped);
    }

    [Fact]
    public async Task Corruption_in_the_last_record_is_still_a_torn_tail_and_cut_off()
    {
        var file = await WriteListAsync();
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(file, bytes);

        using var store = new LocalFolderStateStore(_dir.Path);
        Assert.Equal(Items[..4], (await store.ReadListAsync("pools/ns")).Select(Encoding.UTF8.GetString));
        Assert.Equal(0, store.CorruptRecordsSkipped);
        Assert.Equal(OffsetOf(4), new FileInfo(file).Length);
    }

    public void Dispose() => _dir.Dispose();
}
