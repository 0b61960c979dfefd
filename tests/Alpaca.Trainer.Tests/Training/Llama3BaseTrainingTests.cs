using System.Text.Json.Nodes;
using Alpaca.Llm.Tokenizers;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Training;
using Xunit;
using Xunit.Abstractions;

namespace Alpaca.Trainer.Tests.Training;

/// <summary>A Llama-3 base (tokenizer.json only, byte-level BPE) trains, saves and reloads like a LLaMA-2 one.</summary>
public sealed class Llama3BaseTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Tiny_llama3_vocabulary_base_trains_a_few_steps_and_its_checkpoint_reloads()
    {
        using var dir = new TempDir("llama3-job");
        var baseDir = ReferenceBases.Write(ReferenceBases.Llama3, Path.Combine(dir.Path, "base"));
        Assert.False(File.Exists(Path.Combine(baseDir, SentencePieceModelFile.FileName)));
        var outDir = Path.Combine(dir.Path, "out");
        var spec = new TrainingJobSpec
        {
            BaseModel = baseDir,
            DataPath = RepoPaths.Data("alpaca_data.json"),
            OutputDir = outDir,
            MaxRecords = 4,
            Device = "cpu",
            Threads = 2,
            Hyperparameters = new TrainingHyperparameters
            {
                MaxSteps = 3,
                LearningRate = 1e-2,
                WarmupRatio = 0,
                MaxLength = 128,
                GlobalBatchSize = 4,
                MicroBatchSize = 2,
                Precision = PrecisionMode.Float32,
            },
        };

        var result = TrainingJob.Run(spec);
        var losses = result.History.Select(h => h.Loss).ToList();
        output.WriteLine(string.Join(" ", losses.Select(l => l.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(3, result.Steps);
        Assert.InRange(losses[0], 10.0, 13.0); // ≈ ln(128,257) for a random model
        Assert.True(losses[^1] < losses[0], $"loss went from {losses[0]} to {losses[^1]}");

        // train.py's [PAD] joins Meta's 128,256 tokens as id 128,256; tokenizer.json stays the vocabulary file.
        using var saved = HfCheckpoint.Load(outDir);
        Assert.Equal((128_257, 128_256), (saved.Tokenizer.Count, saved.Tokenizer.PadTokenId));
        Assert.Equal((128_257, 128_256), (saved.Config.VocabSize, saved.Config.PadTokenId));
        Assert.False(File.Exists(Path.Combine(outDir, SentencePieceModelFile.FileName)));
        var added = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, HfTokenizerJson.FileName)))!["added_tokens"]!.AsArray();
        Assert.Contains(added, t => t!["id"]!.GetValue<int>() == 128_256 && t["content"]!.GetValue<string>() == "[PAD]");

        // The reloaded tokenizer is the base one plus [PAD]: the same examples come out.
        using var original = HfCheckpoint.Load(baseDir);
        TrainingJob.AddPadTokenIfMissing(original);
        var record = AlpacaDataReader.Read(RepoPaths.Data("alpaca_data.json"))[0];
        var before = SupervisedDataset.Tokenize(record, original.Tokenizer, 128);
        var after = SupervisedDataset.Tokenize(record, saved.Tokenizer, 128);
        Assert.Equal(before.InputIds, after.InputIds);
        Assert.Equal(before.SourceLength, after.SourceLength);
        Assert.Equal(128_000, after.InputIds[0]); // <|begin_of_text|>
        Assert.Equal("<|end_of_text|>", saved.Tokenizer.EosToken);
    }
}
