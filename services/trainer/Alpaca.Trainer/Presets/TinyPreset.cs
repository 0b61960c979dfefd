using Alpaca.Llm.Models;
using Alpaca.Llm.Prompts;
using Alpaca.Llm.Safetensors;
using Alpaca.Llm.Tokenizers;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Tokenization;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Presets;

/// <summary>
/// The <c>tiny</c> base model: a randomly initialised ~4M-parameter LLaMA (4 layers, width 256, 4 heads
/// over 2 KV heads, untied head) with a 2,048-piece SentencePiece BPE tokenizer learned from the
/// training records themselves, written as an ordinary HF checkpoint folder. The whole recipe then runs
/// on a laptop CPU without downloading anything. Same records and seed give the same folder.
/// </summary>
public static class TinyPreset
{
    public const string Name = "tiny";
    public const int VocabularySize = 2048;

    /// <summary>Records whose text trains the tokenizer (enough for stable merges, fast to learn).</summary>
    public const int TokenizerRecords = 4000;

    public static LlamaConfig Config(int vocabSize) => new()
    {
        VocabSize = vocabSize,
        Dim = 256,
        FfnDim = 688,
        NLayers = 4,
        NHeads = 4,
        NKvHeads = 2,
        ContextLength = 1024,
        RmsNormEps = 1e-5f,
        RopeTheta = 10000,
        TiedEmbeddings = false,
        InitializerRange = 0.02,
        BosTokenId = 1,
        EosTokenId = 2,
    };

    /// <summary>Writes the preset into <paramref name="folder"/> unless it is already there; returns the folder.</summary>
    public static string Ensure(string folder, IReadOnlyList<AlpacaRecord> records, ulong seed, int modelMaxLength = 512)
    {
        if (File.Exists(Path.Combine(folder, HfCheckpoint.ConfigFile)) && File.Exists(Path.Combine(folder, SafetensorsCheckpoint.SingleFileName)))
        {
            return folder;
        }

        var texts = records.Take(TokenizerRecords).SelectMany(r => new[] { AlpacaPrompt.Build(r.Instruction, r.Input), r.Output });
        var tokenizer = new PreTrainedTokenizer(TinyBpeTrainer.Train(texts, VocabularySize));

        var config = Config(tokenizer.Count);
        using var model = new LlamaForCausalLM(config);
        ModelWeights.InitializeRandom(model, seed);

        // Write next to the destination and rename, so an interrupted run never leaves half a preset.
        var temp = folder + ".tmp-" + Guid.NewGuid().ToString("N"); // not the PID: 1 in every container
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        HfCheckpoint.Save(temp, model, ScalarType.Float32, mergeLora: false, tokenizer, tokenizerSource: null, originalConfig: null, modelMaxLength);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(folder))!);
        Directory.Move(temp, folder);
        return folder;
    }
}
