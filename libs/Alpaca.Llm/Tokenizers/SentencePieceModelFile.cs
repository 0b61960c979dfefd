using System.Buffers.Binary;
using System.Text;

namespace Alpaca.Llm.Tokenizers;

/// <summary>
/// Reads and writes the SentencePiece <c>tokenizer.model</c> protobuf (<c>ModelProto</c>) by hand, only
/// the fields a LLaMA vocabulary needs:
/// <code>
/// ModelProto     { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2; NormalizerSpec normalizer_spec = 3; }
/// SentencePiece  { string piece = 1; float score = 2; Type type = 3; }
/// TrainerSpec    { ModelType model_type = 3 (BPE = 2); int32 vocab_size = 4; bool byte_fallback = 35;
///                  int32 unk_id = 40; bos_id = 41; eos_id = 42; pad_id = 43; }
/// NormalizerSpec { string name = 1; bool add_dummy_prefix = 3; bool remove_extra_whitespaces = 4; }
/// </code>
/// Unknown fields are skipped by wire type; every length is bounds-checked (errors are <see cref="InvalidDataException"/>
/// naming the file and byte offset).
/// </summary>
public static class SentencePieceModelFile
{
    public const string FileName = "tokenizer.model";

    public static LlamaVocabulary Read(string path) => Parse(File.ReadAllBytes(path), path);

    public static LlamaVocabulary Parse(ReadOnlySpan<byte> bytes, string source = FileName)
    {
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<TokenType>();
        int unk = 0, bos = 1, eos = 2, pad = -1;
        bool? addDummyPrefix = null;
        var r = new Reader(bytes, source, 0);
        while (!r.Done)
        {
            var (field, wire) = r.Key();
            if (field == 1 && wire == 2)
            {
                var start = r.Position;
                var piece = r.Nested();
                string? text = null;
                float score = 0;
                var type = TokenType.Normal;
                while (!piece.Done)
                {
                    var (f, w) = piece.Key();
                    switch (f, w)
                    {
                        case (1, 2): text = piece.String(); break;
                        case (2, 5): score = piece.Float(); break;
                        case (3, 0): type = (TokenType)(int)piece.Varint(); break;
                        default: piece.Skip(w); break;
                    }
                }

                tokens.Add(text ?? throw new InvalidDataException($"{source}: piece {tokens.Count} at byte {start} has no text (field 1)."));
                scores.Add(score);
                types.Add(type);
            }
            else if (field == 2 && wire == 2)
            {
                var t = r.Nested();
                while (!t.Done)
                {
                    var (f, w) = t.Key();
                    switch (f, w)
                    {
                        case (40, 0): unk = (int)t.Varint(); break;
                        case (41, 0): bos = (int)t.Varint(); break;
                        case (42, 0): eos = (int)t.Varint(); break;
                        case (43, 0): pad = (int)t.Varint(); break;
                        default: t.Skip(w); break;
                    }
                }
            }
            else if (field == 3 && wire == 2)
            {
                var n = r.Nested();
                while (!n.Done)
                {
                    var (f, w) = n.Key();
                    if ((f, w) == (3, 0))
                    {
                        addDummyPrefix = n.Varint() != 0;
                    }
                    else
                    {
                        n.Skip(w);
                    }
                }
            }
            else
            {
                r.Skip(wire);
            }
        }

        if (tokens.Count == 0)
        {
            throw new InvalidDataException($"{source}: no pieces; not a SentencePiece model.");
        }

        try
        {
            return new LlamaVocabulary
            {
                Model = LlamaVocabulary.SentencePieceModel,
                Tokens = [.. tokens],
                Scores = [.. scores],
                Types = [.. types],
                UnknownTokenId = unk >= 0 ? unk : null,
                BosTokenId = bos,
                EosTokenId = eos,
                PaddingTokenId = pad >= 0 ? pad : null,
                AddSpacePrefix = addDummyPrefix,
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Writes a BPE byte-fallback model that transformers' LlamaTokenizer and sentencepiece can load.</summary>
    public static void Write(string path, LlamaVocabulary vocab) => File.WriteAllBytes(path, Serialize(vocab));

    public static byte[] Serialize(LlamaVocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        if (vocab.Model != LlamaVocabulary.SentencePieceModel)
        {
            throw new ArgumentException("Only SentencePiece (\"llama\") vocabularies can be written as tokenizer.model.");
        }

        vocab = vocab.Validate().LlamaCppDefaults();
        var model = new MemoryStream();
        for (var i = 0; i < vocab.Count; i++)
        {
            var piece = new MemoryStream();
            WriteBytes(piece, 1, Encoding.UTF8.GetBytes(vocab.Tokens[i]));
            WriteFloat(piece, 2, vocab.Scores?[i] ?? 0f);
            WriteVarintField(piece, 3, (ulong)vocab.Types[i]);
            WriteBytes(model, 1, piece.ToArray());
        }

        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, 2); // BPE
        WriteVarintField(trainer, 4, (ulong)vocab.Count);
        WriteVarintField(trainer, 35, vocab.Types.Contains(TokenType.Byte) ? 1UL : 0UL);
        WriteVarintField(trainer, 40, Signed(vocab.UnknownTokenId ?? -1));
        WriteVarintField(trainer, 41, Signed(vocab.BosTokenId!.Value));
        WriteVarintField(trainer, 42, Signed(vocab.EosTokenId!.Value));
        WriteVarintField(trainer, 43, Signed(vocab.PaddingTokenId ?? -1));
        WriteBytes(model, 2, trainer.ToArray());

        // LLaMA's normalizer: no NFKC map, prepend ▁ to the text, keep runs of spaces.
        var normalizer = new MemoryStream();
        WriteBytes(normalizer, 1, "identity"u8.ToArray());
        WriteVarintField(normalizer, 3, vocab.AddSpacePrefix!.Value ? 1UL : 0UL); // add_dummy_prefix
        WriteVarintField(normalizer, 4, 0);                                        // remove_extra_whitespaces
        WriteVarintField(normalizer, 5, 1);                                        // escape_whitespaces
        WriteBytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    // protobuf int32 fields encode negatives as 10-byte two's-complement varints.
    private static ulong Signed(int v) => (ulong)(long)v;

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }

        s.WriteByte((byte)v);
    }

    private static void WriteVarintField(Stream s, int field, ulong v)
    {
        WriteVarint(s, (ulong)field << 3);
        WriteVarint(s, v);
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteVarint(s, ((ulong)field << 3) | 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteFloat(Stream s, int field, float v)
    {
        WriteVarint(s, ((ulong)field << 3) | 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, v);
        s.Write(b);
    }

    private ref struct Reader(ReadOnlySpan<byte> data, string source, long baseOffset)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly bool Done => _pos >= _data.Length;

        public readonly long Position => baseOffset + _pos;

        public (int Field, int Wire) Key()
        {
            var key = Varint();
            if (key >> 3 is 0 or > int.MaxValue)
            {
                throw Error($"invalid field number {key >> 3}");
            }

            return ((int)(key >> 3), (int)(key & 7));
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _data.Length)
                {
                    throw Error("truncated varint");
                }

                var b = _data[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw Error("varint longer than 10 bytes");
        }

        public float Float() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

        public string String() => Encoding.UTF8.GetString(Take(Length()));

        public Reader Nested()
        {
            var start = Position;
            var len = Length();
            return new Reader(Take(len), source, start);
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Take(8); break;
                case 2: Take(Length()); break;
                case 5: Take(4); break;
                default: throw Error($"unsupported wire type {wire}");
            }
        }

        private int Length()
        {
            var n = Varint();
            if (n > (ulong)(_data.Length - _pos))
            {
                throw Error($"length {n} runs past the end of the message");
            }

            return (int)n;
        }

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n > _data.Length - _pos)
            {
                throw Error($"needs {n} bytes, {_data.Length - _pos} left");
            }

            var s = _data.Slice(_pos, n);
            _pos += n;
            return s;
        }

        private readonly InvalidDataException Error(string message) =>
            new($"{source}: byte {baseOffset + _pos}: {message} (corrupt or not a SentencePiece model).");
    }
}
