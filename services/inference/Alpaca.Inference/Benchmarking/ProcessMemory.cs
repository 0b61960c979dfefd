using System.Globalization;

namespace Alpaca.Inference.Benchmarking;

/// <summary>This process's resident memory from <c>/proc/self/status</c> (Linux; zeros elsewhere), in bytes.</summary>
public static class ProcessMemory
{
    /// <summary>VmRSS (all resident pages), RssAnon (heap, packed weights, caches) and RssFile (mapped file pages: the runtime's libraries and the GGUF).</summary>
    public static (long Rss, long Anon, long File) Resident()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0, 0);
        }

        long rss = 0, anon = 0, file = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            // "VmRSS:	  123456 kB"
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon];
            if (key is not ("VmRSS" or "RssAnon" or "RssFile"))
            {
                continue;
            }

            var kb = long.Parse(line[(colon + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            switch (key)
            {
                case "VmRSS":
                    rss = kb;
                    break;
                case "RssAnon":
                    anon = kb;
                    break;
                default:
                    file = kb;
                    break;
            }
        }

        return (rss, anon, file);
    }

    /// <summary>
    /// Resident bytes of this process's mappings of <paramref name="path"/> (the "Rss:" lines of
    /// <c>/proc/self/smaps</c>): how much of a memory-mapped model file is in memory, apart from the
    /// runtime's own mapped libraries that RssFile also counts.
    /// </summary>
    public static long MappedBytes(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        var full = System.IO.Path.GetFullPath(path);
        var target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        long total = 0;
        var inFile = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            // Mapping headers ("7f12…-7f13… r--s 00000000 fd:01 1234 /path") start with an address range,
            // attribute lines ("Rss:  8 kB") with a key and a colon.
            var first = line.Split(' ', 2)[0];
            if (first.Contains('-', StringComparison.Ordinal) && !first.EndsWith(':'))
            {
                inFile = line.EndsWith(" " + target, StringComparison.Ordinal);
            }
            else if (inFile && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                total += long.Parse(line["Rss:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return total;
    }
}
