using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Inference.TestSupport;

/// <summary>Random-weight GGUF models written once per test run by the formats library's factory (nothing downloaded).</summary>
public static class TestModels
{
    private static readonly TempDir Dir = new("alpaca-inference-api-models");
    private static readonly Dictionary<string, string> Paths = [];
    private static readonly object Gate = new();

    /// <summary>The folder every test model is written to (the test servers' model root).</summary>
    public static string Folder => Dir.Path;

    /// <summary>dim 64, 2 layers, GQA, vocab 384 (byte fallback), context 512 (an Alpaca template fits), Q8_0.</summary>
    public static string Tiny(int seed = 99) => Write($"tiny-{seed}", TinyModelFactory.Tiny(context: 512), seed);

    /// <summary>The same shape in another weight type (the torch backend's parity tests take each of F32/F16/Q8_0/Q4_0).</summary>
    public static string Tiny(GgmlType type, int seed = 99, int context = 512) =>
        Write($"tiny-{type}-{seed}-{context}", TinyModelFactory.Tiny(context: context), seed, type: type);

    /// <summary>
    /// Llama 3.2's shape at the tiny size: tied embeddings (no output.weight), θ = 500000 and llama3 rope
    /// scaling (factor 32 over a pre-training context of 32, written as rope_freqs.weight); with
    /// <paramref name="scaled"/> false, the same weights without the scaling (to show a test sees it).
    /// Linear scaling (Mistral/SmolLM-style `rope.scaling.type = linear`) with <paramref name="linear"/>.
    /// </summary>
    public static string Llama32(GgmlType type, bool scaled = true, double? linear = null)
    {
        var config = TinyModelFactory.Tiny(context: 512) with
        {
            TiedEmbeddings = true,
            RopeTheta = 500000f,
            RopeScaling = scaled && linear is null ? new Llama3RopeScaling { Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalContextLength = 32 } : null,
            RopeLinearFactor = linear,
        };
        var rope = linear is { } f ? FormattableString.Invariant($"linear{f}") : scaled ? "llama3" : "plain";
        return Write($"llama32-{type}-{rope}", config, 21, type: type);
    }

    /// <summary>
    /// A K-quant model as `alpaca convert --type RECIPE` writes it (q2_k … q6_k, q4_k_m, q5_k_m): dim 256 and
    /// FFN 512, so every row is whole 256-weight super-blocks and the mixture applies to every tensor.
    /// </summary>
    public static string KQuant(string recipe) =>
        Cached("kquant-" + recipe, (key, path) => TinyModelFactory.WriteGguf(path, new TinyModelSpec
        {
            Config = TinyModelFactory.Tiny(dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, context: 512),
            RandomNorms = true,
            Seed = 13,
            InitStd = 0.05f,
            Name = key,
        }, WeightRecipe.Parse(recipe)));

    /// <summary>
    /// dim 512, 8 layers (~27M weights, Q8_0), 2048-token context: about 8× <see cref="Long"/>'s time per
    /// step, for tests whose reasoning needs a request to outlast the host's own latencies (a gRPC call
    /// reaching the scheduler, a continuation running) on a fast, idle machine as on a loaded one; 2000
    /// tokens of <see cref="Long"/> took under a second on an idle EPYC, less than one such latency under load.
    /// </summary>
    public static string Slow(int seed = 7) => Write($"slow-{seed}", TinyModelFactory.Tiny(dim: 512, layers: 8, heads: 8, kvHeads: 4, ffn: 1536, context: 2048), seed);

    /// <summary>Wider (dim 256, 4 layers) with a 2048-token context: streams that run for seconds, long enough to be cancelled, expired or swapped under.</summary>
    public static string Long(int seed = 7) => Write($"long-{seed}", TinyModelFactory.Tiny(dim: 256, layers: 4, heads: 4, kvHeads: 2, ffn: 768, context: 2048), seed);

    /// <summary>The ChatML template with an explicit BOS (as TinyLlama-Chat-style and Qwen templates write it).</summary>
    public const string ChatMlTemplate =
        "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /// <summary>As <see cref="Tiny"/>, with &lt;|im_start|&gt; and &lt;|im_end|&gt; control tokens and a chat template (<see cref="ChatMlTemplate"/> unless given).</summary>
    public static string Chat(string? template = ChatMlTemplate, string key = "chatml", GgmlType type = GgmlType.Q8_0)
    {
        var config = TinyModelFactory.Tiny(context: 512);
        return Write(key, config, 11, ChatMlVocabulary(config.VocabSize, template), type);
    }

    /// <summary>
    /// The byte-fallback vocabulary with &lt;|im_start|&gt; as its second-last token and &lt;|im_end|&gt; as
    /// its last, or at <paramref name="imEndId"/> (a token a random model's greedy decoding reaches), and the template.
    /// </summary>
    public static LlamaVocabulary ChatMlVocabulary(int vocabSize, string? template = ChatMlTemplate, int? imEndId = null)
    {
        var vocab = LlamaVocabulary.CreateByteFallback(vocabSize);
        var tokens = (string[])vocab.Tokens.Clone();
        var types = (TokenType[])vocab.Types.Clone();
        var imEnd = imEndId ?? vocabSize - 1;
        (tokens[^2], types[^2]) = ("<|im_start|>", TokenType.Control);
        (tokens[imEnd], types[imEnd]) = ("<|im_end|>", TokenType.Control);
        return vocab with { Tokens = tokens, Types = types, ChatTemplate = template };
    }

    /// <summary>The F32 <see cref="Tiny(GgmlType, int, int)"/> model as a Hugging Face folder (safetensors, config.json, tokenizer) by the GGUF → HF converter.</summary>
    public static string HfFolder()
    {
        var gguf = Tiny(GgmlType.F32);
        lock (Gate)
        {
            var folder = Dir.File("tiny-hf");
            if (!Directory.Exists(folder))
            {
                ModelConverter.Convert(gguf, folder, "f32");
            }

            return folder;
        }
    }

    private static string Write(string key, LlamaConfig config, int seed, LlamaVocabulary? vocabulary = null, GgmlType type = GgmlType.Q8_0) =>
        Cached(key, (_, path) => TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = config, RandomNorms = true, Seed = seed, InitStd = 0.08f, Name = key, Vocabulary = vocabulary }, type));

    /// <summary>The file of <paramref name="key"/>, written by <paramref name="write"/> (key, path) the first time it is asked for.</summary>
    private static string Cached(string key, Action<string, string> write)
    {
        lock (Gate)
        {
            if (!Paths.TryGetValue(key, out var path))
            {
                path = Dir.File($"{key}.gguf");
                write(key, path);
                Paths[key] = path;
            }

            return path;
        }
    }
}
