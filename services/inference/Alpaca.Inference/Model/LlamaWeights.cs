using Alpaca.Inference.Kernels;
using Alpaca.Inference.Loading;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;

namespace Alpaca.Inference.Model;

/// <summary>
/// A LLaMA model's weights, taken zero-copy from a memory-mapped GGUF file: F32/F16/BF16 matrices are
/// used in place; Q4_0/Q8_0 (and, on x86 and ARM64 with sdot, Q4_K/Q5_K/Q6_K) matrices get a packed copy for
/// the integer kernels (the GGUF bytes stay mapped for the reference path and the embedding lookup, their
/// pages released from the resident set once packed). Shapes and types are checked against the
/// hyper-parameters, and every error names the file and the tensor.
/// </summary>
public sealed unsafe class LlamaWeights : IDisposable
{
    private readonly GgufFile? _file;

    private LlamaWeights(GgufFile? file, LlamaConfig config, int ropeDim, float[]? ropeFreqFactors, Embedding embedding, LayerWeights[] layers, float[] outputNorm, WeightMatrix output)
    {
        _file = file;
        Config = config;
        RopeDim = ropeDim;
        RopeFreqFactors = ropeFreqFactors;
        TokenEmbedding = embedding;
        Layers = layers;
        OutputNorm = outputNorm;
        Output = output;
    }

    public LlamaConfig Config { get; }

    /// <summary>Rotated dimensions per head (<c>llama.rope.dimension_count</c>, default head_dim).</summary>
    public int RopeDim { get; }

    /// <summary>
    /// Llama 3.1's <c>rope_freqs.weight</c> (one divisor per rotated pair), used as the file holds it — as
    /// llama.cpp does — or null for plain RoPE.
    /// </summary>
    public float[]? RopeFreqFactors { get; }

    public Embedding TokenEmbedding { get; }

    public IReadOnlyList<LayerWeights> Layers { get; }

    public float[] OutputNorm { get; }

    /// <summary>The LM head: <c>output.weight</c>, or <c>token_embd.weight</c> when the file ties them.</summary>
    public WeightMatrix Output { get; }

    /// <summary>The file the weights came from (for messages).</summary>
    public string Source => _file?.Path ?? "GGUF";

    /// <summary>
    /// The llama.cpp mixture the file declares in <c>general.file_type</c> ("Q4_K_M", "Q5_K_M"), or null: a mixture's
    /// matrices are of several types, so only the file says which recipe wrote them.
    /// </summary>
    public string? Mixture => WeightRecipe.MixtureOf(_file?.Metadata.GetInteger("general.file_type"));

    /// <summary>Every 2-D weight, each once (a tied LM head is counted as the output).</summary>
    public IEnumerable<WeightMatrix> Matrices => Layers.SelectMany(l => l.Matrices).Append(Output);

    /// <summary>Bytes one decode step streams: every matrix once plus one embedding row.</summary>
    public long BytesPerToken => Matrices.Sum(m => m.RowBytes * m.Rows) + TokenEmbedding.RowBytes;

    /// <summary>Opens a GGUF file and loads its weights; the file stays mapped until <see cref="Dispose"/>.</summary>
    public static LlamaWeights Load(string path, bool pack = true)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model file not found: {path}", path);
        }

        var file = GgufFile.Open(path);
        try
        {
            return FromGguf(file, pack, ownsFile: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Loads the weights of an open file. With <paramref name="ownsFile"/> the weights dispose it.</summary>
    public static LlamaWeights FromGguf(GgufFile file, bool pack = true, bool ownsFile = false)
    {
        var where = file.Path ?? "GGUF";
        // Refuses other architectures, rope scaling other than Llama 3.1's and foreign tensors (biases,
        // experts) with the messages training and conversion give.
        var config = LlamaConfig.FromGguf(file);
        var ropeDim = LlamaConfig.RopeDimension(file, config);
        if (ropeDim <= 0 || ropeDim > config.HeadDim || ropeDim % 2 != 0)
        {
            throw new InvalidDataException($"{where}: llama.rope.dimension_count is {ropeDim}; it must be even and within 1..head_dim ({config.HeadDim}).");
        }

        var loader = new Loader(file, pack);
        var created = new List<IDisposable>();
        try
        {
            long dim = config.Dim, qDim = (long)config.NHeads * config.HeadDim, kvDim = config.KvDim, ffn = config.FfnDim, vocab = config.VocabSize;
            var embeddingInfo = loader.Info(LlamaTensorNames.TokenEmbedding, [dim, vocab]);
            var embedding = new Embedding(embeddingInfo.Type, (int)vocab, (int)dim, file.GetTensorPointer(embeddingInfo));

            var layers = new LayerWeights[config.NLayers];
            for (var l = 0; l < config.NLayers; l++)
            {
                layers[l] = new LayerWeights
                {
                    AttnNorm = loader.Vector(LlamaTensorNames.AttnNorm(l), dim),
                    AttnQ = loader.Matrix(LlamaTensorNames.AttnQ(l), dim, qDim),
                    AttnK = loader.Matrix(LlamaTensorNames.AttnK(l), dim, kvDim),
                    AttnV = loader.Matrix(LlamaTensorNames.AttnV(l), dim, kvDim),
                    AttnOutput = loader.Matrix(LlamaTensorNames.AttnOutput(l), qDim, dim),
                    FfnNorm = loader.Vector(LlamaTensorNames.FfnNorm(l), dim),
                    FfnGate = loader.Matrix(LlamaTensorNames.FfnGate(l), dim, ffn),
                    FfnUp = loader.Matrix(LlamaTensorNames.FfnUp(l), dim, ffn),
                    FfnDown = loader.Matrix(LlamaTensorNames.FfnDown(l), ffn, dim),
                };
                created.Add(layers[l]);
            }

            var outputNorm = loader.Vector(LlamaTensorNames.OutputNorm, dim);
            // llama3 scaling: the file's rope_freqs tensor; linear scaling: the factor for every frequency.
            var ropeFreqs = config.RopeScaling is not null ? loader.Vector(LlamaConfig.RopeFreqsTensor, ropeDim / 2) : config.RopeFrequencyDivisors(ropeDim);
            var output = file.TryGetTensor(LlamaTensorNames.Output, out _)
                ? loader.Matrix(LlamaTensorNames.Output, dim, vocab)
                : loader.Matrix(LlamaTensorNames.TokenEmbedding, dim, vocab);
            loader.ReleasePacked();
            return new LlamaWeights(ownsFile ? file : null, config, ropeDim, ropeFreqs, embedding, layers, outputNorm, output);
        }
        catch
        {
            foreach (var c in created)
            {
                c.Dispose();
            }

            throw;
        }
    }

    public void Dispose()
    {
        foreach (var l in Layers)
        {
            l.Dispose();
        }

        Output.Dispose();
        _file?.Dispose();
    }

    private sealed class Loader(GgufFile file, bool pack)
    {
        private readonly string _where = file.Path ?? "GGUF";
        private readonly List<GgufTensorInfo> _packed = [];

        public GgufTensorInfo Info(string name, long[] shape)
        {
            if (!file.TryGetTensor(name, out var info))
            {
                throw new InvalidDataException($"{_where}: tensor '{name}' is missing.");
            }

            if (!info.Shape.SequenceEqual(shape))
            {
                throw new InvalidDataException($"{_where}: tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}] from the hyper-parameters.");
            }

            return info;
        }

        public float[] Vector(string name, long length)
        {
            var info = Info(name, [length]);
            var values = new float[length];
            try
            {
                Quantizer.Dequantize(info.Type, file.GetTensorBytes(info), values);
            }
            catch (NotSupportedException e)
            {
                throw new InvalidDataException($"{_where}: tensor '{name}' has type {info.Type}, which cannot be read: {e.Message}", e);
            }

            return values;
        }

        public WeightMatrix Matrix(string name, long columns, long rows)
        {
            var info = Info(name, [columns, rows]);
            if (!WeightMatrix.IsSupported(info.Type))
            {
                throw new InvalidDataException($"{_where}: tensor '{name}' has type {info.Type}; supported matrix types are F32, F16, BF16, Q8_0, Q4_0 and Q2_K … Q6_K.");
            }

            var data = file.GetTensorPointer(info);
            TensorChecks.RequireFiniteHalves(_where, name, info.Type, data, (int)rows, info.RowBytes);
            var matrix = new WeightMatrix(name, info.Type, (int)rows, (int)columns, data, file, pack);
            if (matrix.IsPacked || matrix.IsKPacked)
            {
                // The kernels read the packed copy; packing faulted the GGUF pages in, and keeping them would
                // hold the matrix in memory twice. They stay mapped (the reference path, a tied embedding's
                // row lookups) and come back from the file if read. Released now, so loading never holds the
                // whole file and the whole packed copy at once, and again by ReleasePacked.
                file.ReleaseTensorPages(info);
                _packed.Add(info);
            }

            return matrix;
        }

        /// <summary>
        /// Releases every packed matrix's pages once more after loading: the kernel maps up to 64 KB of cached
        /// file pages around each later page fault ("fault-around"), which brings back the tails of matrices
        /// released earlier.
        /// </summary>
        public void ReleasePacked()
        {
            foreach (var info in _packed)
            {
                file.ReleaseTensorPages(info);
            }
        }
    }
}

/// <summary>The token embedding table: one row per token, read (and decoded) a row at a time.</summary>
public sealed unsafe class Embedding(GgmlType type, int vocab, int dim, byte* data)
{
    public GgmlType Type { get; } = type;

    public int Vocab { get; } = vocab;

    public int Dim { get; } = dim;

    public long RowBytes { get; } = GgmlTypeInfo.RowBytes(type, dim);

    /// <summary>Decodes token <paramref name="token"/>'s row into <paramref name="output"/>.</summary>
    public void Lookup(int token, Span<float> output)
    {
        if ((uint)token >= (uint)Vocab)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token id {token} is outside the vocabulary (0..{Vocab - 1}).");
        }

        Quantizer.Dequantize(Type, new ReadOnlySpan<byte>(data + token * RowBytes, (int)RowBytes), output[..Dim]);
    }
}
