using System.Security.Cryptography;
using Alpaca.Llm.Safetensors;

namespace Alpaca.Llm.WeightDiffs;

/// <summary>
/// Stanford Alpaca's <c>weight_diff.py</c> on sharded safetensors: <see cref="Create"/> writes
/// <c>diff = tuned − base</c> per element in each tensor's own dtype (what torch's <c>tuned - raw</c> gives on tensors of
/// that dtype), <see cref="Recover"/> computes <c>base + diff</c>. Rounding makes <c>base + (tuned − base)</c> differ from
/// <c>tuned</c> in the last bit for some elements (a sign change or a factor of more than two between the two weights;
/// Sterbenz's lemma makes the rest exact), so the diff also carries those elements' tuned bits in
/// <c>weight_diff.exceptions.safetensors</c>: the diff shards stay exactly torch's difference, loadable by any tool, and
/// recovery is bit-exact. <c>weight_diff.json</c> holds per-tensor SHA-256s of base and tuned bytes, so a wrong base
/// or a damaged diff is named, and the reference's parameter sum. Tensors are processed one at a time in chunks over
/// memory-mapped inputs; output shards keep the input's file names, so the index and layout are unchanged.
/// </summary>
public static partial class WeightDiff
{
    public const string ManifestFileName = "weight_diff.json";
    public const string ExceptionsFileName = "weight_diff.exceptions.safetensors";
    internal const string IndexSuffix = "/exception_index";
    internal const string ValueSuffix = "/exception_value";

    /// <summary>Writes the diff of <paramref name="tunedPath"/> against <paramref name="basePath"/> into <paramref name="outDir"/>.</summary>
    public static WeightDiffReport Create(string basePath, string tunedPath, string outDir, WeightDiffOptions? options = null)
    {
        options ??= new WeightDiffOptions();
        CheckDistinct(outDir, basePath, tunedPath);
        using var tuned = SafetensorsCheckpoint.Open(tunedPath);
        using var baseline = SafetensorsCheckpoint.Open(basePath);
        Directory.CreateDirectory(outDir);
        var buffers = new ChunkBuffers(options.ChunkElements);
        var records = new List<DiffTensor>();
        var exceptions = new SafetensorsWriter();
        double sum = 0;
        long elements = 0, exceptionCount = 0;
        var written = new List<string>();
        return Guarded(written, () =>
        {
            foreach (var file in tuned.Files)
            {
                var shard = Path.GetFileName(file.Path);
                var writer = new SafetensorsWriter();
                foreach (var info in OwnTensors(tuned, file))
                {
                    var (baseFile, baseInfo) = MatchBase(baseline, info, basePath);
                    writer.Add(info.Name, info.DType, info.Shape, stream =>
                    {
                        options.OnTensor?.Invoke(info.Name, true);
                        var size = SafetensorsDTypes.ElementSize(info.DType);
                        using var tunedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                        using var baseHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                        var index = new List<long>();
                        var bits = new List<uint>();
                        foreach (var (start, count) in TensorChunks.Ranges(info.ElementCount, options.ChunkElements))
                        {
                            var t = TensorChunks.Slice(file, info, start * size, count * size);
                            var b = TensorChunks.Slice(baseFile, baseInfo, start * size, count * size);
                            var d = buffers.First(count * size);
                            var r = buffers.Second(count * size);
                            ElementArithmetic.Subtract(info.DType, t, b, d);
                            ElementArithmetic.Add(info.DType, b, d, r);
                            if (!r.SequenceEqual(t))
                            {
                                for (var i = 0; i < count; i++)
                                {
                                    if (ElementArithmetic.Bits(info.DType, r, i) != ElementArithmetic.Bits(info.DType, t, i))
                                    {
                                        index.Add(start + i);
                                        bits.Add(ElementArithmetic.Bits(info.DType, t, i));
                                    }
                                }
                            }

                            tunedHash.AppendData(t);
                            baseHash.AppendData(b);
                            sum += ElementArithmetic.Sum(info.DType, t);
                            stream.Write(d);
                        }

                        if (index.Count > 0)
                        {
                            AddExceptions(exceptions, info, index, bits);
                        }

                        elements += info.ElementCount;
                        exceptionCount += index.Count;
                        records.Add(new DiffTensor(info.Name, shard, info.DType, info.Shape, TensorChunks.Hex(baseHash), TensorChunks.Hex(tunedHash), index.Count));
                        options.OnTensor?.Invoke(info.Name, false);
                    });
                }

                var path = Path.Combine(outDir, shard);
                writer.WriteTo(path);
                written.Add(path);
                options.Log?.Invoke($"{shard}: {writer.Count} tensors");
            }

            var exceptionsPath = Path.Combine(outDir, ExceptionsFileName);
            exceptions.WriteTo(exceptionsPath);
            written.Add(exceptionsPath);
            var hasIndex = CopyCompanions(tunedPath, outDir, written);
            var manifest = new WeightDiffManifest
            {
                Tensors = records,
                TunedSha256 = WeightDiffManifest.ModelSha256(records.Select(r => (r.Name, r.TunedSha256))),
                TunedSum = sum,
                HasIndex = hasIndex,
            };
            var manifestPath = Path.Combine(outDir, ManifestFileName);
            manifest.Write(manifestPath);
            written.Add(manifestPath);
            return new WeightDiffReport(records.Count, elements, exceptionCount, sum, manifest.TunedSha256, buffers.PeakBytes, written);
        });
    }

    /// <summary>The tensors the checkpoint maps to this shard, in the shard's header order.</summary>
    private static IEnumerable<SafetensorsTensorInfo> OwnTensors(SafetensorsCheckpoint checkpoint, SafetensorsFile file) =>
        file.Tensors.Where(t => checkpoint.TryGetTensor(t.Name, out var owner, out _) && ReferenceEquals(owner, file));

    private static (SafetensorsFile File, SafetensorsTensorInfo Info) MatchBase(SafetensorsCheckpoint baseline, SafetensorsTensorInfo wanted, string basePath)
    {
        if (!baseline.TryGetTensor(wanted.Name, out var file, out var info))
        {
            throw new WeightDiffIntegrityException($"--base {basePath} does not match: it has no tensor '{wanted.Name}' ({wanted}).");
        }

        if (info.DType != wanted.DType || !info.Shape.SequenceEqual(wanted.Shape))
        {
            throw new WeightDiffIntegrityException($"--base {basePath} does not match: tensor '{wanted.Name}' is {info.DType} [{string.Join(", ", info.Shape)}] there, {wanted.DType} [{string.Join(", ", wanted.Shape)}] in the other checkpoint.");
        }

        if (!ElementArithmetic.Supports(info.DType))
        {
            throw new NotSupportedException($"Tensor '{wanted.Name}' is {info.DType}; weight diffs work on F32, F16 and BF16 tensors.");
        }

        return (file, info);
    }

    private static void AddExceptions(SafetensorsWriter exceptions, SafetensorsTensorInfo info, List<long> index, List<uint> bits)
    {
        var size = SafetensorsDTypes.ElementSize(info.DType);
        var values = new byte[bits.Count * size];
        for (var i = 0; i < bits.Count; i++)
        {
            ElementArithmetic.SetBits(info.DType, values, i, bits[i]);
        }

        var idx = System.Runtime.InteropServices.MemoryMarshal.AsBytes(index.ToArray().AsSpan()).ToArray();
        exceptions.Add(info.Name + IndexSuffix, SafetensorsDType.I64, [index.Count], idx);
        exceptions.Add(info.Name + ValueSuffix, info.DType, [bits.Count], values);
    }

    /// <summary>Copies config, tokenizer and index files (everything at the top of the folder but weights and diff files); true when an index was copied.</summary>
    private static bool CopyCompanions(string from, string outDir, List<string> written)
    {
        if (!Directory.Exists(from))
        {
            return false;
        }

        foreach (var file in Directory.GetFiles(from))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".safetensors", StringComparison.Ordinal) || name is ManifestFileName || name.EndsWith(".partial", StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(outDir, name);
            File.Copy(file, target, overwrite: true);
            written.Add(target);
        }

        return File.Exists(Path.Combine(from, SafetensorsCheckpoint.IndexFileName));
    }

    private static void CheckDistinct(string outDir, params string[] inputs)
    {
        var full = Path.GetFullPath(outDir).TrimEnd('/');
        if (inputs.Any(i => Path.GetFullPath(i).TrimEnd('/') == full))
        {
            throw new ArgumentException($"--out {outDir} is one of the inputs; choose a new folder.");
        }
    }

    /// <summary>Runs <paramref name="work"/>; on failure removes what it wrote, so a failed run leaves no half checkpoint.</summary>
    private static WeightDiffReport Guarded(List<string> written, Func<WeightDiffReport> work)
    {
        try
        {
            return work();
        }
        catch
        {
            foreach (var f in written)
            {
                File.Delete(f);
            }

            throw;
        }
    }

    /// <summary>Two reusable chunk buffers: the only heap memory that grows with the work.</summary>
    private sealed class ChunkBuffers(int chunkElements)
    {
        private readonly byte[] _first = new byte[chunkElements * 4];
        private readonly byte[] _second = new byte[chunkElements * 4];

        public long PeakBytes => _first.Length + _second.Length;

        public Span<byte> First(int bytes) => _first.AsSpan(0, bytes);

        public Span<byte> Second(int bytes) => _second.AsSpan(0, bytes);
    }
}
