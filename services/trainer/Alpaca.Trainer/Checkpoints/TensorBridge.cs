using System.Runtime.InteropServices;
using Alpaca.Llm.Safetensors;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Checkpoints;

/// <summary>
/// The one place where TorchSharp tensors meet the safetensors stack of <c>libs/Alpaca.Llm</c>
/// (<see cref="SafetensorsCheckpoint"/>, <see cref="SafetensorsWriter"/>, <see cref="SafetensorsCheckpointWriter"/>):
/// dtype mapping, stored bytes into tensors, tensors out as bytes. File layout, sharding, metadata and
/// atomic writes all live in the Llm stack.
/// </summary>
public static class TensorBridge
{
    /// <summary>Every tensor of a checkpoint folder (single file or shards) or of one file, as CPU tensors in the stored dtype.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in checkpoint.TensorNames)
            {
                checkpoint.TryGetTensor(name, out var file, out var info);
                var tensor = empty(info.Shape, dtype: ToTorch(info.DType, file.Path, name));
                result[name] = tensor;
                // TorchSharp's setter takes a Span but only copies from it; the mapped file stays read-only.
                var stored = file.GetTensorBytes(info);
                tensor.bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(stored), stored.Length);
            }

            return result;
        }
        catch
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw;
        }
    }

    /// <summary>One .safetensors file (PyTorch's <c>__metadata__.format</c>), tensors in name order.</summary>
    public static void WriteFile(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var writer = new SafetensorsWriter();
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            var t = tensors[name];
            writer.Add(name, ToSafetensors(t.dtype, name), t.shape, s => WriteBytes(s, t));
        }

        writer.WriteTo(path);
    }

    /// <summary>HF weights into <paramref name="folder"/>, sharded above <paramref name="maxShardBytes"/> as save_pretrained does.</summary>
    public static void WriteCheckpoint(string folder, IReadOnlyDictionary<string, Tensor> tensors, long maxShardBytes)
    {
        var writer = new SafetensorsCheckpointWriter { MaxShardBytes = maxShardBytes };
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            var t = tensors[name];
            writer.Add(name, ToSafetensors(t.dtype, name), t.shape, s => WriteBytes(s, t));
        }

        writer.WriteTo(folder);
    }

    public static SafetensorsDType ToSafetensors(ScalarType dtype, string tensorName) => dtype switch
    {
        ScalarType.Float32 => SafetensorsDType.F32,
        ScalarType.Float16 => SafetensorsDType.F16,
        ScalarType.BFloat16 => SafetensorsDType.BF16,
        ScalarType.Float64 => SafetensorsDType.F64,
        ScalarType.Int64 => SafetensorsDType.I64,
        ScalarType.Int32 => SafetensorsDType.I32,
        ScalarType.Int16 => SafetensorsDType.I16,
        ScalarType.Int8 => SafetensorsDType.I8,
        ScalarType.Byte => SafetensorsDType.U8,
        ScalarType.Bool => SafetensorsDType.BOOL,
        _ => throw new NotSupportedException($"Tensor '{tensorName}' has dtype {dtype}, which safetensors cannot store."),
    };

    public static ScalarType ToTorch(SafetensorsDType dtype, string file, string tensorName) => dtype switch
    {
        SafetensorsDType.F32 => ScalarType.Float32,
        SafetensorsDType.F16 => ScalarType.Float16,
        SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.F64 => ScalarType.Float64,
        SafetensorsDType.I64 => ScalarType.Int64,
        SafetensorsDType.I32 => ScalarType.Int32,
        SafetensorsDType.I16 => ScalarType.Int16,
        SafetensorsDType.I8 => ScalarType.Int8,
        SafetensorsDType.U8 => ScalarType.Byte,
        SafetensorsDType.BOOL => ScalarType.Bool,
        _ => throw new NotSupportedException($"{file}: tensor '{tensorName}' is {dtype}, which TorchSharp has no type for."),
    };

    // Called by the writer when it streams this tensor out, so only one tensor's CPU copy exists at a time.
    private static void WriteBytes(Stream stream, Tensor t)
    {
        using var scope = NewDisposeScope();
        stream.Write(t.detach().cpu().contiguous().bytes);
    }
}
