using Alpaca.Trainer.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>Moves weights between HF-keyed dictionaries and a <see cref="LlamaForCausalLM"/>.</summary>
public static class ModelWeights
{
    /// <summary>
    /// Copies <paramref name="weights"/> into the model by HF name, converting dtype. Every base
    /// parameter must be present with the right shape; LoRA adapter parameters may be absent (they keep
    /// their fresh initialisation). Keys the model does not have are an error, except the rotary
    /// <c>inv_freq</c> buffers old LLaMA checkpoints carry and a redundant <c>lm_head.weight</c> of a
    /// tied model.
    /// </summary>
    public static void Load(LlamaForCausalLM model, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var missing = new List<string>();
        using var noGrad = no_grad();
        var parameters = model.named_parameters().ToList();
        var known = new HashSet<string>(parameters.Select(p => p.name), StringComparer.Ordinal);
        foreach (var (name, parameter) in parameters)
        {
            if (!weights.TryGetValue(name, out var value))
            {
                if (!LoraNames.IsAdapter(name))
                {
                    missing.Add(name);
                }

                continue;
            }

            if (!value.shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException(
                    $"{source}: tensor '{name}' has shape [{string.Join(", ", value.shape)}] but the model built from config.json expects [{string.Join(", ", parameter.shape)}].");
            }

            parameter.copy_(value);
        }

        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{source}: {missing.Count} weight(s) missing, e.g. {string.Join(", ", missing.Take(5).Select(n => $"'{n}'"))}.");
        }

        var unexpected = weights.Keys
            .Where(k => !known.Contains(k) && !k.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) && !(k == "lm_head.weight" && model.Config.TiedEmbeddings))
            .ToList();
        if (unexpected.Count > 0)
        {
            throw new InvalidDataException(
                $"{source}: {unexpected.Count} tensor(s) the LLaMA architecture does not have, e.g. {string.Join(", ", unexpected.Take(5).Select(n => $"'{n}'"))}.");
        }
    }

    /// <summary>
    /// The model's weights under HF keys, ready to save. With LoRA, adapters are folded in
    /// (W + (alpha/r)·B·A) when <paramref name="mergeLora"/>, and left out otherwise (base weights only).
    /// Tensors are detached copies in <paramref name="dtype"/> on the CPU.
    /// </summary>
    public static Dictionary<string, Tensor> Export(LlamaForCausalLM model, ScalarType dtype, bool mergeLora)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var noGrad = no_grad();
        var adapters = model.named_modules().Where(m => m.module is LoraLinear).ToDictionary(m => m.name + ".weight", m => (LoraLinear)m.module);
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (LoraNames.IsAdapter(name))
            {
                continue;
            }

            using var scope = NewDisposeScope();
            Tensor value;
            if (mergeLora && adapters.TryGetValue(name, out var lora))
            {
                var baseWeight = parameter.detach().to(ScalarType.Float32);
                value = (baseWeight + lora.Delta().to(baseWeight.device)).to(dtype).cpu();
            }
            else
            {
                value = parameter.detach().to(dtype).cpu().clone();
            }

            result[name] = value.MoveToOuterDisposeScope();
        }

        return result;
    }

    /// <summary>HF's <c>_init_weights</c> for LLaMA: N(0, initializer_range) for linear and embedding weights, 1 for norms.</summary>
    public static void InitializeRandom(LlamaForCausalLM model, ulong seed)
    {
        using var generator = new Generator(seed, CPU);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (LoraNames.IsAdapter(name))
            {
                continue;
            }

            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                parameter.fill_(1.0);
            }
            else
            {
                using var sample = randn(parameter.shape, dtype: ScalarType.Float32, generator: generator);
                parameter.copy_(sample * model.Config.InitializerRange);
            }
        }
    }

    /// <summary>Total and trainable parameter counts.</summary>
    public static (long Total, long Trainable) Count(nn.Module model)
    {
        long total = 0, trainable = 0;
        foreach (var p in model.parameters())
        {
            total += p.numel();
            if (p.requires_grad)
            {
                trainable += p.numel();
            }
        }

        return (total, trainable);
    }
}
