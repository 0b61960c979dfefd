using System.Text;

namespace Alpaca.Generator.Export;

/// <summary>
/// Replaces a file so that a reader (or a restart after a crash) sees the old or the new content, never a
/// mix: write a temporary file in the same folder, flush it to disk, then rename it over the target.
/// <see cref="Stage"/> splits the two steps, so that a caller can check it may still write (a lease's fencing
/// token) between them.
/// </summary>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Utf8NoBom.GetBytes(text));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var staged = Stage(path, bytes);
        staged.Commit();
    }

    /// <summary>Writes <paramref name="bytes"/> to a flushed temporary file beside <paramref name="path"/>; nothing is in place until <see cref="StagedFile.Commit"/>.</summary>
    public static StagedFile Stage(string path, ReadOnlySpan<byte> bytes)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        return new StagedFile(path, temp);
    }
}

/// <summary>A file written and flushed beside its target; <see cref="Commit"/> renames it into place, disposing an uncommitted one deletes it.</summary>
public sealed class StagedFile(string path, string temp) : IDisposable
{
    private bool _committed;

    public string Path { get; } = path;

    public void Commit()
    {
        File.Move(temp, Path, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed)
        {
            File.Delete(temp);
        }
    }
}
