using System.Security.Cryptography;
using Alpaca.Llm.Safetensors;

namespace Alpaca.Llm.WeightDiffs;

public static partial class WeightDiff
{
    /// <summary>
    /// Writes <c>base + diff</c> (then the exceptions) into <paramref name="outDir"/>, verifying every tensor against the
    /// SHA-256s in <c>weight_diff.json</c>: a base tensor that is not the one the diff was made from, or a recovered
    /// tensor that is not the tuned one, stops the run with <see cref="WeightDiffIntegrityException"/> and removes what
    /// it wrote. <paramref name="check"/> then reads the written files back and checks their hashes and the
    /// reference-style parameter sum again (weight_diff.py's <c>check_integrity_naively</c> on the saved model).
    /// </summary>
    public static WeightDiffReport Recover(string basePath, string diffDir, string outDir, bool check = false, WeightDiffOptions? options = null)
    {
        options ??= new WeightDiffOptions();
        CheckDistinct(outDir, basePath, diffDir);
        var manifest = WeightDiffManifest.Read(Path.Combine(diffDir, ManifestFileName));
        using var baseline = SafetensorsCheckpoint.Open(basePath);
        var exceptionsPath = Path.Combine(diffDir, ExceptionsFileName);
        using var exceptions = File.Exists(exceptionsPath) ? SafetensorsFile.Open(exceptionsPath) : null;
        Directory.CreateDirectory(outDir);
        var buffers = new ChunkBuffers(options.ChunkElements);
        var written = new List<string>();
        double sum = 0;
        long elements = 0, exceptionCount = 0;
        return Guarded(written, () =>
        {
            foreach (var group in manifest.Tensors.GroupBy(t => t.Shard))
            {
                using var diff = SafetensorsFile.Open(Path.Combine(diffDir, group.Key));
                var writer = new SafetensorsWriter();
                foreach (var record in group)
                {
                    if (!diff.TryGetTensor(record.Name, out var diffInfo) || diffInfo.DType != record.DType || !diffInfo.Shape.SequenceEqual(record.Shape))
                    {
                        throw new WeightDiffIntegrityException($"{diff.Path}: tensor '{record.Name}' is missing or not the {record.DType} [{string.Join(", ", record.Shape)}] that {ManifestFileName} records: the diff is damaged.");
                    }

                    var (baseFile, baseInfo) = MatchBase(baseline, diffInfo, basePath);
                    var (index, bits) = TensorChunks.ReadExceptions(exceptions, record.Name, record.DType);
                    if (index.Length != record.Exceptions)
                    {
                        throw new WeightDiffIntegrityException($"{exceptionsPath}: '{record.Name}' has {index.Length} exceptions, {ManifestFileName} records {record.Exceptions}: the diff is damaged.");
                    }

                    writer.Add(record.Name, record.DType, record.Shape, stream =>
                    {
                        options.OnTensor?.Invoke(record.Name, true);
                        sum += RecoverTensor(stream, record, diff, diffInfo, baseFile, baseInfo, index, bits, buffers, options.ChunkElements, basePath);
                        elements += diffInfo.ElementCount;
                        exceptionCount += index.Length;
                        options.OnTensor?.Invoke(record.Name, false);
                    });
                }

                var path = Path.Combine(outDir, group.Key);
                writer.WriteTo(path);
                written.Add(path);
                options.Log?.Invoke($"{group.Key}: {writer.Count} tensors");
            }

            foreach (var name in Directory.GetFiles(diffDir).Select(Path.GetFileName))
            {
                if (name is ManifestFileName or ExceptionsFileName || name!.EndsWith(".safetensors", StringComparison.Ordinal))
                {
                    continue;
                }

                File.Copy(Path.Combine(diffDir, name), Path.Combine(outDir, name), overwrite: true);
                written.Add(Path.Combine(outDir, name));
            }

            if (BitConverter.DoubleToInt64Bits(sum) != BitConverter.DoubleToInt64Bits(manifest.TunedSum))
            {
                throw new WeightDiffIntegrityException($"The recovered parameter sum {sum:R} is not the tuned model's {manifest.TunedSum:R}.");
            }

            if (check)
            {
                Verify(outDir, manifest, options.ChunkElements);
            }

            return new WeightDiffReport(manifest.Tensors.Count, elements, exceptionCount, sum, manifest.TunedSha256, buffers.PeakBytes, written);
        });
    }

    /// <summary>Rebuilds one tensor chunk by chunk; returns its sum. Throws when the base or the result is not what the manifest says.</summary>
    private static double RecoverTensor(Stream stream, DiffTensor record, SafetensorsFile diff, SafetensorsTensorInfo diffInfo,
        SafetensorsFile baseFile, SafetensorsTensorInfo baseInfo, long[] index, uint[] bits, ChunkBuffers buffers, int chunkElements, string basePath)
    {
        var size = SafetensorsDTypes.ElementSize(record.DType);
        using var tunedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var baseHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        double sum = 0;
        var next = 0;
        foreach (var (start, count) in TensorChunks.Ranges(diffInfo.ElementCount, chunkElements))
        {
            var b = TensorChunks.Slice(baseFile, baseInfo, start * size, count * size);
            var d = TensorChunks.Slice(diff, diffInfo, start * size, count * size);
            var r = buffers.First(count * size);
            ElementArithmetic.Add(record.DType, b, d, r);
            for (; next < index.Length && index[next] < start + count; next++)
            {
                if (index[next] < start)
                {
                    throw new WeightDiffIntegrityException($"The exceptions of '{record.Name}' are not in ascending order: the diff is damaged.");
                }

                ElementArithmetic.SetBits(record.DType, r, (int)(index[next] - start), bits[next]);
            }

            baseHash.AppendData(b);
            tunedHash.AppendData(r);
            sum += ElementArithmetic.Sum(record.DType, r);
            stream.Write(r);
        }

        if (next != index.Length)
        {
            throw new WeightDiffIntegrityException($"The exceptions of '{record.Name}' point past its {diffInfo.ElementCount} elements: the diff is damaged.");
        }

        if (TensorChunks.Hex(baseHash) != record.BaseSha256)
        {
            throw new WeightDiffIntegrityException($"--base {basePath} is not the checkpoint this diff was made from: tensor '{record.Name}' differs (sha256 {record.BaseSha256} expected).");
        }

        var got = TensorChunks.Hex(tunedHash);
        if (got != record.TunedSha256)
        {
            throw new WeightDiffIntegrityException($"Integrity check failed: recovered tensor '{record.Name}' has sha256 {got}, the tuned model's is {record.TunedSha256}; the diff is damaged or was tampered with.");
        }

        return sum;
    }

    /// <summary>Reads a recovered checkpoint back and checks every tensor's hash, the model hash and the parameter sum.</summary>
    private static void Verify(string dir, WeightDiffManifest manifest, int chunkElements)
    {
        using var recovered = SafetensorsCheckpoint.Open(dir);
        double sum = 0;
        var hashes = new List<(string, string)>();
        foreach (var record in manifest.Tensors)
        {
            if (!recovered.TryGetTensor(record.Name, out var file, out var info))
            {
                throw new WeightDiffIntegrityException($"{dir}: the written checkpoint has no tensor '{record.Name}'.");
            }

            var (sha, s) = TensorChunks.HashAndSum(file, info, chunkElements);
            sum += s;
            hashes.Add((record.Name, sha));
        }

        if (WeightDiffManifest.ModelSha256(hashes) != manifest.TunedSha256 || BitConverter.DoubleToInt64Bits(sum) != BitConverter.DoubleToInt64Bits(manifest.TunedSum))
        {
            throw new WeightDiffIntegrityException($"{dir}: the written checkpoint does not read back as the tuned model (sum {sum:R}, expected {manifest.TunedSum:R}).");
        }
    }
}
