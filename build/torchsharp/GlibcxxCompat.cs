// Makes TorchSharp 0.107.0's native bridge load on systems whose libstdc++ predates GCC 13 (Debian 12).
//
// libLibTorchSharp.so asks for the symbol version GLIBCXX_3.4.32 because it links against
// `std::ios_base_library_init()`, a GCC 13 symbol that no relocation uses. The dynamic loader refuses
// any library whose version requirements are missing - unless the requirement carries VER_FLG_WEAK, in
// which case a missing version is not fatal. So we set that one flag in the copy of the library in the
// build output. It is a single 16-bit field edit: idempotent, size-preserving, and harmless where the
// version exists (the requirement is still checked, it is just not fatal when absent).
//
// This one file is both the MSBuild inline task (build/torchsharp/TorchSharp.targets compiles it with
// RoslynCodeTaskFactory, which compiles against netstandard2.0: hence no spans) and, with ALPACA_ELF_PATCHER_ONLY defined, plain code the tests compile.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Alpaca.Build.TorchSharp
{
    /// <summary>What <see cref="ElfVersionNeeds.MarkWeak"/> did to one file.</summary>
    public enum WeakPatchOutcome
    {
        /// <summary>The requirement was strong and is now weak.</summary>
        Patched,
        /// <summary>The requirement was already weak (a second run is a no-op).</summary>
        AlreadyWeak,
        /// <summary>The library does not require that version at all.</summary>
        NotRequired,
    }

    /// <summary>Reads and edits the version-needs table (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF file.</summary>
    public static class ElfVersionNeeds
    {
        public const ushort VerFlgWeak = 0x2;
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>One entry of the table: which file a version is needed from, and its flags.</summary>
        public readonly struct Requirement
        {
            public Requirement(string file, string version, ushort flags, int flagsOffset)
            {
                File = file;
                Version = version;
                Flags = flags;
                FlagsOffset = flagsOffset;
            }

            public string File { get; }
            public string Version { get; }
            public ushort Flags { get; }
            public int FlagsOffset { get; }
            public bool IsWeak => (Flags & VerFlgWeak) != 0;
        }

        /// <summary>All version requirements of an ELF image.</summary>
        public static List<Requirement> Read(byte[] elf, string nameForErrors)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new InvalidDataException(nameForErrors + ": not an ELF file");
            }

            if (elf[4] != 2 || elf[5] != 1)
            {
                throw new InvalidDataException(nameForErrors + ": only 64-bit little-endian ELF is supported (EI_CLASS=" + elf[4] + ", EI_DATA=" + elf[5] + ")");
            }

            var shoff = checked((int)U64(elf, 0x28, nameForErrors));
            int shentsize = U16(elf, 0x3A, nameForErrors);
            int shnum = U16(elf, 0x3C, nameForErrors);
            var result = new List<Requirement>();
            for (var i = 0; i < shnum; i++)
            {
                var sh = shoff + (i * shentsize);
                if (U32(elf, sh + 4, nameForErrors) != ShtGnuVerneed)
                {
                    continue;
                }

                var tableOffset = checked((int)U64(elf, sh + 0x18, nameForErrors));
                var strtabIndex = (int)U32(elf, sh + 0x28, nameForErrors);
                var entryCount = (int)U32(elf, sh + 0x2C, nameForErrors);
                var strtabOffset = checked((int)U64(elf, shoff + (strtabIndex * shentsize) + 0x18, nameForErrors));

                // Elf64_Verneed {u16 version, u16 cnt, u32 file, u32 aux, u32 next}, each followed by
                // Elf64_Vernaux {u32 hash, u16 flags, u16 other, u32 name, u32 next}.
                var need = tableOffset;
                for (var n = 0; n < entryCount; n++)
                {
                    int auxCount = U16(elf, need + 2, nameForErrors);
                    var file = CString(elf, strtabOffset + (int)U32(elf, need + 4, nameForErrors), nameForErrors);
                    var aux = need + (int)U32(elf, need + 8, nameForErrors);
                    for (var a = 0; a < auxCount; a++)
                    {
                        var version = CString(elf, strtabOffset + (int)U32(elf, aux + 8, nameForErrors), nameForErrors);
                        result.Add(new Requirement(file, version, U16(elf, aux + 4, nameForErrors), aux + 4));
                        aux += (int)U32(elf, aux + 12, nameForErrors);
                    }

                    need += (int)U32(elf, need + 12, nameForErrors);
                }
            }

            return result;
        }

        /// <summary>Sets VER_FLG_WEAK on every requirement of <paramref name="version"/> in the image, in place.</summary>
        public static WeakPatchOutcome MarkWeak(byte[] elf, string version, string nameForErrors)
        {
            var outcome = WeakPatchOutcome.NotRequired;
            foreach (var requirement in Read(elf, nameForErrors))
            {
                if (requirement.Version != version)
                {
                    continue;
                }

                if (requirement.IsWeak)
                {
                    outcome = outcome == WeakPatchOutcome.Patched ? outcome : WeakPatchOutcome.AlreadyWeak;
                    continue;
                }

                var flags = (ushort)(requirement.Flags | VerFlgWeak);
                elf[requirement.FlagsOffset] = (byte)(flags & 0xff);
                elf[requirement.FlagsOffset + 1] = (byte)(flags >> 8);
                outcome = WeakPatchOutcome.Patched;
            }

            return outcome;
        }

        /// <summary>
        /// Patches a file on disk. The edit goes to a new file that then replaces the old one, so a
        /// hard link into the NuGet cache is never written through; the timestamp is kept so that
        /// MSBuild's incremental copy (same size and time = unchanged) does not copy the original back.
        /// </summary>
        public static WeakPatchOutcome MarkWeakInFile(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var outcome = MarkWeak(bytes, version, path);
            if (outcome != WeakPatchOutcome.Patched)
            {
                return outcome;
            }

            // Copy first (keeps the file mode), edit the copy, then rename it over the original.
            var stamp = File.GetLastWriteTimeUtc(path);
            var temp = path + ".glibcxx-fix.tmp";
            File.Copy(path, temp, overwrite: true);
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write))
            {
                stream.Write(bytes, 0, bytes.Length);
            }

            File.Replace(temp, path, null);
            File.SetLastWriteTimeUtc(path, stamp);
            return outcome;
        }

        /// <summary>The system libstdc++ the dynamic loader would pick, or null when none is found.</summary>
        public static string? FindSystemLibStdCxx()
        {
            string[] dirs =
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            };
            foreach (var dir in dirs)
            {
                var candidate = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        /// <summary>Whether a library's string tables contain the version name (how libstdc++ defines GLIBCXX_x).</summary>
        public static bool MentionsVersion(string libraryPath, string version)
        {
            var needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
            var haystack = File.ReadAllBytes(libraryPath);
            for (var i = 0; i + needle.Length <= haystack.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                {
                    j++;
                }

                if (j == needle.Length)
                {
                    return true;
                }
            }

            return false;
        }

        private static ushort U16(byte[] b, int at, string name) => (ushort)Little(b, at, 2, name);

        private static uint U32(byte[] b, int at, string name) => (uint)Little(b, at, 4, name);

        private static ulong U64(byte[] b, int at, string name) => Little(b, at, 8, name);

        private static ulong Little(byte[] b, int at, int length, string name)
        {
            if (at < 0 || at + length > b.Length)
            {
                throw new InvalidDataException(name + ": truncated ELF (offset " + at + " beyond " + b.Length + " bytes)");
            }

            ulong value = 0;
            for (var i = length - 1; i >= 0; i--)
            {
                value = (value << 8) | b[at + i];
            }

            return value;
        }

        private static string CString(byte[] b, int at, string name)
        {
            var end = at;
            while (end < b.Length && b[end] != 0)
            {
                end++;
            }

            if (at < 0 || end >= b.Length)
            {
                throw new InvalidDataException(name + ": string table entry at " + at + " is out of range");
            }

            return Encoding.ASCII.GetString(b, at, end - at);
        }
    }

#if !ALPACA_ELF_PATCHER_ONLY
    /// <summary>MSBuild task: marks GLIBCXX_3.4.32 weak in each given libLibTorchSharp.so unless the system has it.</summary>
    public sealed class PatchTorchSharpGlibcxx : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>auto (patch only when the system libstdc++ lacks the version), always, or off.</summary>
        public string Mode { get; set; } = "auto";

        public string Version { get; set; } = "GLIBCXX_3.4.32";

        public override bool Execute()
        {
            var mode = (Mode ?? "auto").Trim().ToLowerInvariant();
            if (mode == "off" || Libraries.Length == 0)
            {
                return true;
            }

            if (mode != "auto" && mode != "always")
            {
                Log.LogError("AlpacaTorchSharpGlibcxxFix must be auto, always or off; got '" + Mode + "'.");
                return false;
            }

            if (mode == "auto")
            {
                var system = ElfVersionNeeds.FindSystemLibStdCxx();
                if (system == null)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "GLIBCXX fix: no system libstdc++.so.6 found (not Linux?); nothing to do.");
                    return true;
                }

                if (ElfVersionNeeds.MentionsVersion(system, Version))
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "GLIBCXX fix: " + system + " has " + Version + "; nothing to do.");
                    return true;
                }
            }

            foreach (var item in Libraries)
            {
                var path = item.ItemSpec;
                try
                {
                    var outcome = ElfVersionNeeds.MarkWeakInFile(path, Version);
                    var importance = outcome == WeakPatchOutcome.Patched ? Microsoft.Build.Framework.MessageImportance.Normal : Microsoft.Build.Framework.MessageImportance.Low;
                    Log.LogMessage(importance, "GLIBCXX fix: " + path + ": " + outcome + " (" + Version + " marked weak).");
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    Log.LogError("GLIBCXX fix: cannot patch " + path + ": " + e.Message);
                    return false;
                }
            }

            return true;
        }
    }
#endif
}
