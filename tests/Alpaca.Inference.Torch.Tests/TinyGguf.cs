using Alpaca.Llm.Conversion;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;

namespace Alpaca.Inference.Torch.Tests;

/// <summary>
/// The inference tests' tiny model (dim 64, 2 layers, 4 heads / 2 KV heads, FFN 192, vocab 384, random
/// norm gains), written once per run in each weight type by the formats library's factory.
/// </summary>
public static class TinyGguf
{
    private static readonly TempDir Dir = new("alpaca-torch-models");
    private static readonly Dictionary<string, string> Paths = [];
    private static readonly object Gate = new();

    public static string Folder => Dir.Path;

    public static string Path(GgmlType type, int seed = 99, int context = 512)
    {
        var key = $"tiny-{type}-{seed}-{context}";
        lock (Gate)
        {
            if (!Paths.TryGetValue(key, out var path))
            {
                path = Dir.File(key + ".gguf");
                var config = TinyModelFactory.Tiny(context: context);
                TinyModelFactory.WriteGguf(path, new TinyModelSpec { Config = config, RandomNorms = true, Seed = seed, InitStd = 0.08f, Name = "tiny" }, type);
                Paths[key] = path;
            }

            return path;
        }
    }

    /// <summary>The ChatML template with an explicit BOS (as the inference API tests' chat model has it).</summary>
    public const string ChatMlTemplate =
        "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /// <summary>An F32 tiny model whose vocabulary ends in &lt;|im_start|&gt; and &lt;|im_end|&gt; control tokens, with <see cref="ChatMlTemplate"/>.</summary>
    public static string Chat()
    {
        lock (Gate)
        {
            const string key = "tiny-chatml";
            if (!Paths.TryGetValue(key, out var path))
            {
                path = Dir.File(key + ".gguf");
                var config = TinyModelFactory.Tiny(context: 512);
                var vocab = LlamaVocabulary.CreateByteFallback(config.VocabSize);
                var tokens = (string[])vocab.Tokens.Clone();
                var types = (TokenType[])vocab.Types.Clone();
                (tokens[^2], types[^2]) = ("<|im_start|>", TokenType.Control);
                (tokens[^1], types[^1]) = ("<|im_end|>", TokenType.Control);
                var spec = new TinyModelSpec { Config = config, RandomNorms = true, Seed = 11, InitStd = 0.08f, Name = key, Vocabulary = vocab with { Tokens = tokens, Types = types, ChatTemplate = ChatMlTemplate } };
                TinyModelFactory.WriteGguf(path, spec, GgmlType.F32);
                Paths[key] = path;
            }

            return path;
        }
    }

    /// <summary>The F32 model as a Hugging Face folder (safetensors, config.json, tokenizer) by the GGUF → HF converter.</summary>
    public static string HfFolder()
    {
        var gguf = Path(GgmlType.F32);
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
}
