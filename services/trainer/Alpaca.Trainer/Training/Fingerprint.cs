using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Alpaca.Llm.Models;
using Alpaca.Trainer.Data;
using Alpaca.Trainer.Lora;
using Alpaca.Trainer.Model;

namespace Alpaca.Trainer.Training;

/// <summary>
/// What makes two runs the same run: a checkpoint is only resumed by a job with an identical
/// fingerprint (hyper-parameters that change the math, data, model shape, LoRA, precision).
/// Checkpoint cadence and the device are left out: they do not change what is computed.
/// </summary>
public static class Fingerprint
{
    public static Dictionary<string, string> Of(
        TrainingHyperparameters hp, string precision, LlamaConfig config, SupervisedDataset data, LoraSettings? lora, string baseModel)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var result = new Dictionary<string, string>
        {
            ["base_model"] = baseModel,
            ["model_config"] = config.ToHfConfigJson(),
            ["data_examples"] = data.Count.ToString(CultureInfo.InvariantCulture),
            ["data_tokens_xxh64"] = DataHash(data),
            ["epochs"] = hp.Epochs.ToString(CultureInfo.InvariantCulture),
            ["max_steps"] = hp.MaxSteps.ToString(CultureInfo.InvariantCulture),
            ["learning_rate"] = F(hp.LearningRate),
            ["global_batch_size"] = hp.GlobalBatchSize.ToString(CultureInfo.InvariantCulture),
            ["max_length"] = hp.MaxLength.ToString(CultureInfo.InvariantCulture),
            ["warmup_ratio"] = F(hp.WarmupRatio),
            ["weight_decay"] = F(hp.WeightDecay),
            ["max_grad_norm"] = F(hp.MaxGradNorm),
            ["adam"] = $"{F(hp.AdamBeta1)},{F(hp.AdamBeta2)},{F(hp.AdamEpsilon)}",
            ["seed"] = hp.Seed.ToString(CultureInfo.InvariantCulture),
            ["precision"] = precision,
            ["lora"] = lora is null ? "none" : $"r={lora.R},alpha={F(lora.Alpha)},dropout={F(lora.Dropout)},targets={string.Join('+', lora.TargetModules)}",
        };
        return result;
    }

    /// <summary>XxHash64 over every example's ids and labels, in order.</summary>
    public static string DataHash(SupervisedDataset data)
    {
        var hash = new XxHash64();
        foreach (var e in data.Examples)
        {
            hash.Append(MemoryMarshal.AsBytes(e.InputIds.AsSpan()));
            hash.Append(MemoryMarshal.AsBytes(e.Labels.AsSpan()));
        }

        return Convert.ToHexString(hash.GetCurrentHash());
    }
}
