using System.Runtime.InteropServices;

namespace Alpaca.Llm.IO.Exports;

/// <summary>
/// A second name for an existing file (POSIX <c>link</c>), so an export's files can stand in the output folder and in
/// their generation folder at once without a copy of a multi-GB model. .NET has no hard-link API; where the file
/// system refuses links (or on Windows) the file is copied instead.
/// </summary>
internal static partial class HardLink
{
    private const int ENOENT = 2;

    /// <summary>Makes <paramref name="link"/> name the file <paramref name="existing"/>; throws <see cref="FileNotFoundException"/> when that is gone.</summary>
    public static void CreateOrCopy(string existing, string link)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            if (Link(existing, link) == 0)
            {
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT)
            {
                throw new FileNotFoundException($"Cannot link '{link}': '{existing}' is gone.", existing);
            }
        }

        File.Copy(existing, link, overwrite: false);
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string link);
}
