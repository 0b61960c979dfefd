using System.Text;
using Alpaca.Llm.IO;

namespace Alpaca.Generator.Export;

/// <summary>
/// Replaces a file so that a reader (or a restart after a crash, power loss included) sees the old or the new
/// content, never a mix: <see cref="DurableFile.Write"/> writes a temporary file in the same folder, fsyncs it,
/// renames it over the target and fsyncs the folder, so the new name is on disk too. One writer per file (the run
/// folder's single process).
/// </summary>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Utf8NoBom.GetBytes(text));

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        DurableFile.Write(path, stream => stream.Write(bytes));
    }
}
