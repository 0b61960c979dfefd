using System.Text;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Checkpoints;

/// <summary>
/// Writes a .safetensors file: an 8-byte little-endian header length, a JSON header (name → dtype,
/// shape, byte range; plus <c>__metadata__</c>), then the raw tensor bytes. We write it ourselves
/// because transformers (≤ 4.3x) refuses files without <c>__metadata__.format = "pt"</c>, which
/// TorchSharp.PyBridge does not emit. Tensors stream out one at a time, so memory stays flat.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        var meta = new JsonObject { ["format"] = "pt" };
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            meta[key] = value;
        }

        header["__metadata__"] = meta;
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            var size = t.NumberOfElements * t.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = DtypeName(t.dtype, name),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }

        // The spec pads the header with spaces so the data starts 8-byte aligned.
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (headerBytes.Length + 7) / 8 * 8;
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(BitConverter.GetBytes((ulong)padded));
            stream.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }

            foreach (var name in names)
            {
                using var scope = NewDisposeScope();
                stream.Write(tensors[name].detach().cpu().contiguous().bytes);
            }
        }

        // Rename into place so a crash mid-write never leaves a truncated checkpoint behind.
        File.Move(temp, path, overwrite: true);
    }

    public static string DtypeName(ScalarType dtype, string tensorName) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"Tensor '{tensorName}' has dtype {dtype}, which safetensors cannot store."),
    };
}
