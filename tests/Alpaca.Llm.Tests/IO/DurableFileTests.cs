using Alpaca.Llm.IO;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.IO;

/// <summary>
/// The durable write path: the bytes land under the real name, nothing is left beside it, a failed write
/// leaves neither file, and the directory fsync really runs (a missing folder is an error, not a no-op).
/// A power loss itself cannot be staged in a test; these check every step the code takes toward surviving one.
/// </summary>
public sealed class DurableFileTests
{
    [Fact]
    public void A_write_lands_under_its_name_with_no_temporary_left()
    {
        using var dir = new TempDir("durable");
        var path = Path.Combine(dir.Path, "config.json");
        DurableFile.WriteAllText(path, "{\"a\": 1}");
        DurableFile.WriteAllText(path, "{\"a\": 2}"); // replacing an existing file
        Assert.Equal("{\"a\": 2}", File.ReadAllText(path));
        Assert.Equal(["config.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failed_write_leaves_the_old_file_and_no_temporary()
    {
        using var dir = new TempDir("durable-fail");
        var path = Path.Combine(dir.Path, "model.gguf");
        DurableFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => DurableFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["model.gguf"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Directories_are_fsynced_and_a_missing_one_is_an_error()
    {
        using var dir = new TempDir("durable-dir");
        DurableFile.FlushDirectory(dir.Path);
        if (OperatingSystem.IsLinux())
        {
            var e = Assert.Throws<IOException>(() => DurableFile.FlushDirectory(Path.Combine(dir.Path, "absent")));
            Assert.Contains("absent", e.Message);
        }
    }
}
