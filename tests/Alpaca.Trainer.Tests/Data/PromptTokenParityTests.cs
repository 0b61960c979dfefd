using System.Diagnostics;
using Alpaca.Inference;
using Alpaca.Llm.Prompts;
using Alpaca.TestSupport;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Export;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Training;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Data;

/// <summary>
/// Issue 11's check that training and serving tokenize alike: over all 52,002 Alpaca records, the prompt ids
/// the trainer feeds (its real path: load the base, add [PAD], build the SupervisedDataset) are the ids the
/// inference engine computes for the same prompt, with the tokenizer it reads from the GGUF the trainer
/// exports — for the real LLaMA-2 SentencePiece and Llama-3 byte-level BPE vocabularies.
/// </summary>
public sealed class PromptTokenParityTests(ITestOutputHelper output)
{
    private const int MaxLength = 512;

    [Theory]
    [InlineData(ReferenceBases.Llama2)]
    [InlineData(ReferenceBases.Llama3)]
    public void Trainer_prompt_ids_are_the_inference_engine_ids_for_every_alpaca_record(string kind)
    {
        using var dir = new TempDir("prompt-parity-" + kind);
        var baseDir = ReferenceBases.Write(kind, Path.Combine(dir.Path, "base"));
        var records = AlpacaDataReader.Read(RepoPaths.Data("alpaca_data.json"));
        Assert.Equal(52_002, records.Count);

        // Training side, as TrainingJob runs it.
        var clock = Stopwatch.StartNew();
        using var baseModel = HfCheckpoint.Load(baseDir);
        TrainingJob.AddPadTokenIfMissing(baseModel);
        var dataset = SupervisedDataset.Build(records, baseModel.Tokenizer, MaxLength);
        var trainTime = clock.Elapsed;
        var outDir = Path.Combine(dir.Path, "trained");
        using (var model = new LlamaForCausalLM(baseModel.Config))
        {
            ModelWeights.Load(model, baseModel.Weights, baseDir);
            HfCheckpoint.Save(outDir, model, ScalarType.Float32, false, baseModel.Tokenizer, baseDir, baseModel.ConfigJson, MaxLength);
        }

        // Serving side: the exported GGUF's tokenizer on the prompt GenerationRunner builds, BOS as the model says.
        using var engine = Engine.Load(GgufExporter.Export(outDir, GgufExportType.F16));
        var tokenizer = engine.Tokenizer;
        Assert.Equal(baseModel.Tokenizer.Count, tokenizer.VocabSize);
        clock.Restart();
        var boundary = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var served = tokenizer.Encode(AlpacaPrompt.Build(records[i].Instruction, records[i].Input), tokenizer.AddBosByDefault);
            var example = dataset.Examples[i];
            var fed = example.InputIds.AsSpan(0, example.SourceLength);
            Assert.True(Math.Min(served.Count, MaxLength) == example.SourceLength, $"record {i}: the trainer masks {example.SourceLength} prompt tokens, the engine has {served.Count}");
            if (!fed.SequenceEqual(served.Take(example.SourceLength).ToArray()))
            {
                // train.py tokenizes source+target as one text, so a piece may merge across the boundary:
                // then only the last prompt position differs, and the trainer masks it anyway.
                Assert.True(fed[..^1].SequenceEqual(served.Take(example.SourceLength - 1).ToArray()), $"record {i}: prompt ids differ before the last position");
                boundary++;
            }
        }

        output.WriteLine($"{kind}: dataset built in {trainTime.TotalSeconds:F1} s, engine encoded 52,002 prompts in {clock.Elapsed.TotalSeconds:F1} s; " +
                         $"{boundary} records merge one piece across the prompt/response boundary");
    }
}
