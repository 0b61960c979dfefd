using Alpaca.Build.TorchSharp;
using Alpaca.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Runtime;

public sealed class TorchSharpLoadTests
{
    private const string Version = "GLIBCXX_3.4.32";

    [Fact]
    public void Torch_loads_and_computes_a_matrix_product()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).view(2, 2);
        using var b = tensor(new float[] { 5, 6, 7, 8 }).view(2, 2);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
        Assert.Equal(2, TorchSharp.torch.get_num_threads());
    }

    [Fact]
    public void Output_copy_of_the_native_bridge_is_weak_exactly_when_the_system_lacks_the_version()
    {
        var lib = OutputBridge();
        var requirement = ElfVersionNeeds.Read(File.ReadAllBytes(lib), lib).Single(r => r.Version == Version);
        var system = ElfVersionNeeds.FindSystemLibStdCxx();
        Assert.NotNull(system);
        var systemHasIt = ElfVersionNeeds.MentionsVersion(system!, Version);
        Assert.Equal("libstdc++.so.6", requirement.File);
        Assert.Equal(!systemHasIt, requirement.IsWeak);
    }

    [Fact]
    public void Patching_sets_only_the_weak_flag_is_idempotent_and_keeps_size_and_other_entries()
    {
        using var dir = new TempDir("glibcxx");
        var copy = dir.File("libLibTorchSharp.so");
        File.Copy(OutputBridge(), copy);
        var bytes = File.ReadAllBytes(copy);

        // Undo any earlier patch so the copy looks like the NuGet original.
        var before = ElfVersionNeeds.Read(bytes, copy);
        var target = before.Single(r => r.Version == Version);
        bytes[target.FlagsOffset] = (byte)(target.Flags & ~ElfVersionNeeds.VerFlgWeak);
        File.WriteAllBytes(copy, bytes);
        var original = File.ReadAllBytes(copy);

        Assert.Equal(WeakPatchOutcome.Patched, ElfVersionNeeds.MarkWeakInFile(copy, Version));
        var once = File.ReadAllBytes(copy);
        Assert.Equal(WeakPatchOutcome.AlreadyWeak, ElfVersionNeeds.MarkWeakInFile(copy, Version));
        Assert.Equal(once, File.ReadAllBytes(copy));

        Assert.Equal(original.Length, once.Length);
        var changed = Enumerable.Range(0, once.Length).Where(i => once[i] != original[i]).ToList();
        Assert.Equal([target.FlagsOffset], changed);
        var after = ElfVersionNeeds.Read(once, copy);
        Assert.Equal(before.Count, after.Count);
        Assert.All(after.Where(r => r.Version != Version), r => Assert.False(r.IsWeak));
        Assert.Equal(WeakPatchOutcome.NotRequired, ElfVersionNeeds.MarkWeak(once, "GLIBCXX_9.9.99", copy));
    }

    [Fact]
    public void Patching_a_file_that_is_not_elf_fails_naming_it()
    {
        using var dir = new TempDir("glibcxx");
        var path = dir.File("not-elf.so");
        File.WriteAllText(path, "hello, this is text and not a shared library at all, padded past 64 bytes........");
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeakInFile(path, Version));
        Assert.Contains(path, e.Message);
        Assert.Contains("not an ELF file", e.Message);
    }

    private static string OutputBridge()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"native bridge not in the test output: {path}");
        return path;
    }
}
