using Alpaca.Llm.Safetensors;
using Alpaca.Llm.WeightDiffs;
using Alpaca.TestSupport;

namespace Alpaca.Llm.Tests.WeightDiffs;

/// <summary>The diff shards hold what numpy's (and so torch's) dtype arithmetic gives, and the CLI speaks it.</summary>
public class WeightDiffOracleTests
{
    // numpy computes float16 arithmetic in float32 and rounds, as torch's CPU kernels do; bfloat16 is not in numpy,
    // so its elements are widened to float32, subtracted by numpy and rounded to nearest even as c10::BFloat16 does.
    private const string Script = """
        import numpy as np
        for line in lines:
            dt, th, bh = line.split()
            if dt == 'F32':
                d = np.frombuffer(bytes.fromhex(th), '<f4') - np.frombuffer(bytes.fromhex(bh), '<f4')
            elif dt == 'F16':
                d = np.frombuffer(bytes.fromhex(th), '<f2') - np.frombuffer(bytes.fromhex(bh), '<f2')
            else:
                w = lambda h: (np.frombuffer(bytes.fromhex(h), '<u2').astype('<u4') << 16).view('<f4')
                u = (w(th) - w(bh)).view('<u4')
                d = ((u + 0x7fff + ((u >> 16) & 1)) >> 16).astype('<u2')
            emit(d.tobytes().hex())
        """;

    [Fact]
    public void Diff_elements_are_numpys_dtype_arithmetic()
    {
        using var dir = new TempDir("wdiff-oracle");
        var input = new List<string>();
        var ours = new List<string>();
        foreach (var dtype in new[] { SafetensorsDType.F32, SafetensorsDType.F16, SafetensorsDType.BF16 })
        {
            var root = dir.File(dtype.ToString());
            var (basePath, tunedPath) = TinyCheckpoints.WritePair(root, dtype, seed: 7);
            WeightDiff.Create(basePath, tunedPath, Path.Combine(root, "diff"));
            var (b, t, d) = (TinyCheckpoints.ReadAll(basePath), TinyCheckpoints.ReadAll(tunedPath), TinyCheckpoints.ReadAll(Path.Combine(root, "diff")));
            foreach (var name in t.Keys)
            {
                input.Add($"{dtype} {Convert.ToHexStringLower(t[name])} {Convert.ToHexStringLower(b[name])}");
                ours.Add(Convert.ToHexStringLower(d[name]));
            }
        }

        Assert.Equal(ours, Python.Run(Script, input));
    }

    [Fact]
    public void Cli_diff_and_recover_exit_0_and_a_wrong_base_exits_3()
    {
        using var dir = new TempDir("wdiff-cli");
        var (basePath, tunedPath) = TinyCheckpoints.WritePair(dir.Path, SafetensorsDType.F16);
        var (otherBase, _) = TinyCheckpoints.WritePair(dir.File("other"), SafetensorsDType.F16, seed: 9);
        var run = AlpacaCli.Run("weights", "diff", "--base", basePath, "--tuned", tunedPath, "--out", dir.File("diff"));
        Assert.True(run.Code == 0, run.Err);
        run = AlpacaCli.Run("weights", "recover", "--base", basePath, "--diff", dir.File("diff"), "--out", dir.File("out"), "--check");
        Assert.True(run.Code == 0, run.Err);
        Assert.Equal(TinyCheckpoints.ReadAll(tunedPath)["model.norm.weight"], TinyCheckpoints.ReadAll(dir.File("out"))["model.norm.weight"]);
        run = AlpacaCli.Run("weights", "recover", "--base", otherBase, "--diff", dir.File("diff"), "--out", dir.File("bad"));
        Assert.Equal(3, run.Code);
        Assert.Contains("is not the checkpoint this diff was made from", run.Err);
    }
}
