using System.Globalization;

namespace Alpaca.Inference.Benchmarking;

/// <summary>This process's resident memory from <c>/proc/self/status</c> (Linux; zeros elsewhere), in bytes.</summary>
public static class ProcessMemory
{
    /// <summary>VmRSS (all resident pages), RssAnon (heap, packed weights, caches) and RssFile (mapped file pages: the GGUF).</summary>
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
}
