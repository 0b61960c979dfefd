using System.Runtime.InteropServices;
using System.Text;

namespace Alpaca.Llm.IO;

/// <summary>
/// Writes that survive a power loss: a rename is only durable once the file's bytes are on disk
/// (<c>fsync</c> of the file before the rename) and the directory entry is too (<c>fsync</c> of the
/// directory after it). Without both, a crash can leave the new name pointing at an empty or partial file,
/// which is exactly what a resume or a model load would then trust.
/// </summary>
public static partial class DurableFile
{
    private const int ReadOnly = 0;          // O_RDONLY
    // O_DIRECTORY differs by architecture: 0200000 on x86-64, 040000 on arm64 (where 0200000 is O_DIRECT,
    // which a directory refuses with EINVAL: found by the arm64 conformance run under qemu).
    private static readonly int DirectoryFlag = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, fsyncs it, renames it into place and fsyncs the directory.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>Writes through <paramref name="write"/> to a temporary file, fsyncs, renames into place, fsyncs the directory; a failed write leaves nothing behind.</summary>
    public static void Write(string path, Action<FileStream> write)
    {
        var temp = path + ".partial";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>fsyncs an existing file (its data and size).</summary>
    public static void FlushFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// fsyncs a directory, so the entries created, renamed or removed in it are durable. .NET cannot open a
    /// directory as a file handle, so this calls libc's open(O_DIRECTORY) and fsync directly; on other
    /// systems (Windows commits renames in its journal) it does nothing.
    /// </summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        var flags = ReadOnly | (OperatingSystem.IsLinux() ? DirectoryFlag : 0);
        var fd = Open(directory, flags);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
