using System.Text;

namespace Alpaca.Trainer.Tokenization;

/// <summary>A piece of a SentencePiece vocabulary (sentencepiece_model.proto <c>ModelProto.SentencePiece</c>).</summary>
public sealed record SentencePiece(string Piece, float Score, SentencePieceType Type);

public enum SentencePieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>
/// Writes a LLaMA-style SentencePiece <c>tokenizer.model</c> (protobuf <c>ModelProto</c>): BPE,
/// byte fallback, identity normaliser, dummy prefix, whitespace escaped as ▁, unk/bos/eos = 0/1/2.
/// Only the fields LLaMA's own file sets are written; the encoding is hand-rolled protobuf (varints,
/// length-delimited fields, little-endian float), which avoids a generated-code dependency.
/// </summary>
public static class SentencePieceModelWriter
{
    public static byte[] Write(IReadOnlyList<SentencePiece> pieces)
    {
        var model = new MemoryStream();
        foreach (var piece in pieces)
        {
            var p = new MemoryStream();
            WriteString(p, 1, piece.Piece);
            WriteFloat(p, 2, piece.Score);
            WriteVarintField(p, 3, (ulong)piece.Type);
            WriteBytes(model, 1, p.ToArray());
        }

        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, 2);                       // model_type = BPE
        WriteVarintField(trainer, 4, (ulong)pieces.Count);     // vocab_size
        WriteVarintField(trainer, 35, 1);                      // byte_fallback
        WriteVarintField(trainer, 40, 0);                      // unk_id
        WriteVarintField(trainer, 41, 1);                      // bos_id
        WriteVarintField(trainer, 42, 2);                      // eos_id
        WriteBytes(model, 2, trainer.ToArray());

        var normalizer = new MemoryStream();
        WriteString(normalizer, 1, "identity");
        WriteVarintField(normalizer, 3, 1);                    // add_dummy_prefix
        WriteVarintField(normalizer, 4, 0);                    // remove_extra_whitespaces
        WriteVarintField(normalizer, 5, 1);                    // escape_whitespaces
        WriteBytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    private static void WriteString(Stream s, int field, string value) => WriteBytes(s, field, Encoding.UTF8.GetBytes(value));

    private static void WriteBytes(Stream s, int field, byte[] value)
    {
        WriteVarint(s, ((ulong)field << 3) | 2);
        WriteVarint(s, (ulong)value.Length);
        s.Write(value);
    }

    private static void WriteVarintField(Stream s, int field, ulong value)
    {
        WriteVarint(s, (ulong)field << 3);
        WriteVarint(s, value);
    }

    private static void WriteFloat(Stream s, int field, float value)
    {
        WriteVarint(s, ((ulong)field << 3) | 5);
        s.Write(BitConverter.GetBytes(value));
    }

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        s.WriteByte((byte)value);
    }
}
