using Alpaca.Inference.Model;
using Alpaca.Llm.Conversion;
using Alpaca.Llm.Gguf;
using Alpaca.Llm.Models;
using Alpaca.Llm.Tokenizers;
using Alpaca.Trainer.Checkpoints;
using Alpaca.Trainer.Model;
using Alpaca.Trainer.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Alpaca.Inference.Torch;

/// <summary>
/// Loads a model onto the TorchSharp backend: a GGUF file (F32/F16/BF16 exactly; Q8_0, Q4_0 and the
/// K-quants decoded by the Llm codecs and converted to the configured dtype, tensor by tensor, so at most
/// one tensor's float copy is on the host at a time) or a Hugging Face safetensors folder. GGUF q/k rows
/// are put back into Hugging Face's rotate-half order (the inverse of llama.cpp's converter permutation),
/// since the model is the trainer's HF-layout module.
/// </summary>
public static class TorchModelLoader
{
    /// <summary>A .gguf file or an HF folder (or a file inside one) as a ready <see cref="Engine"/>.</summary>
    public static Engine Load(string path, TorchBackendOptions options)
    {
        TorchRuntime.Initialize(options.Threads);
        if (File.Exists(path) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            return LoadGguf(path, options);
        }

        var folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is null || !File.Exists(Path.Combine(folder, LlamaConfig.HfConfigFileName)))
        {
            throw new FileNotFoundException($"{path} is neither a .gguf file nor a Hugging Face model folder (no config.json).", path);
        }

        return LoadSafetensors(folder, options);
    }

    /// <summary>A model of <paramref name="config"/>'s shape with seeded random weights (benchmarks, GPU checks).</summary>
    public static TorchTransformer Random(LlamaConfig config, TorchBackendOptions options, ulong seed = 1)
    {
        TorchRuntime.Initialize(options.Threads);
        var (device, dtype) = Resolve(options);
        CheckBudget(config, options, dtype);
        var model = new LlamaForCausalLM(config);
        ModelWeights.InitializeRandom(model, seed);
        return Place(model, device, dtype, options);
    }

    private static Engine LoadGguf(string path, TorchBackendOptions options)
    {
        var file = GgufFile.Open(path);
        LlamaWeights? weights = null;
        try
        {
            var vocabulary = LlamaVocabulary.RequireFromGguf(file.Metadata, file.Path);
            // Unpacked: the torch backend decodes rows itself and needs no integer-kernel copies.
            weights = LlamaWeights.FromGguf(file, pack: false, ownsFile: true);
            if (weights.RopeDim != weights.Config.HeadDim)
            {
                throw new NotSupportedException($"{path}: partial rotary embeddings (rope dimension {weights.RopeDim} of head_dim {weights.Config.HeadDim}) are not supported by the torch backend; use --backend cpu.");
            }

            var (device, dtype) = Resolve(options);
            CheckBudget(weights.Config, options, dtype);
            var model = new LlamaForCausalLM(weights.Config);
            model = model.to(dtype).to(device);
            CopyGgufWeights(model, file, weights.Config, path);
            var backend = Place(model, device, dtype, options);
            try
            {
                return Engine.Create(backend, vocabulary, weights, owned: weights);
            }
            catch
            {
                backend.Dispose();
                throw;
            }
        }
        catch
        {
            if (weights is not null)
            {
                weights.Dispose();
            }
            else
            {
                file.Dispose();
            }

            throw;
        }
    }

    private static Engine LoadSafetensors(string folder, TorchBackendOptions options)
    {
        var config = LlamaConfig.ReadHfConfig(Path.Combine(folder, LlamaConfig.HfConfigFileName));
        var vocabulary = TokenizerFile.Read(folder);
        var (device, dtype) = Resolve(options);
        CheckBudget(config, options, dtype);
        var model = new LlamaForCausalLM(config);
        var tensors = TensorBridge.Read(folder);
        try
        {
            ModelWeights.Load(model, tensors, folder);
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }

        var backend = Place(model.to(dtype).to(device), device, dtype, options);
        try
        {
            return Engine.Create(backend, vocabulary);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    // Every parameter of the HF-named model from its GGUF tensor, decoded to float32 on the host and
    // copied (converting dtype and device) into place.
    private static void CopyGgufWeights(LlamaForCausalLM model, GgufFile file, LlamaConfig config, string path)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var ggufName = LlamaTensorNames.HfToGguf(name) ?? throw new InvalidDataException($"{path}: no GGUF tensor name for '{name}'.");
            if (!file.TryGetTensor(ggufName, out var info))
            {
                throw new InvalidDataException($"{path}: tensor '{ggufName}' is missing.");
            }

            var values = file.ReadAsFloat32(info);
            if (ggufName.EndsWith("attn_q.weight", StringComparison.Ordinal))
            {
                values = QkPermutation.GgufToHf(values, config.NHeads, config.Dim);
            }
            else if (ggufName.EndsWith("attn_k.weight", StringComparison.Ordinal))
            {
                values = QkPermutation.GgufToHf(values, config.NKvHeads, config.Dim);
            }

            if (values.LongLength != parameter.numel())
            {
                throw new InvalidDataException($"{path}: tensor '{ggufName}' has {values.LongLength} values; the model expects [{string.Join(", ", parameter.shape)}].");
            }

            using var host = tensor(values).view(parameter.shape);
            parameter.copy_(host);
        }
    }

    private static TorchTransformer Place(LlamaForCausalLM model, Device device, ScalarType dtype, TorchBackendOptions options)
    {
        model.eval();
        foreach (var p in model.parameters())
        {
            p.requires_grad = false;
        }

        return new TorchTransformer(model, device, dtype, options);
    }

    private static (Device Device, ScalarType DType) Resolve(TorchBackendOptions options)
    {
        var device = TorchRuntime.SelectDevice(options.Device);
        return (device, TorchBackendOptions.ResolveDType(options.DType, device));
    }

    // Weights plus the full KV cache against the configured budget, before anything is allocated.
    private static void CheckBudget(LlamaConfig config, TorchBackendOptions options, ScalarType dtype)
    {
        if (options.MemoryBudgetBytes <= 0)
        {
            return;
        }

        var context = options.ContextLength > 0 ? options.ContextLength : config.ContextLength;
        var weights = config.ParameterCount * TorchBackendOptions.Bytes(dtype);
        var cache = TorchKvCache.EstimateBytes(config.NLayers, Math.Max(1, options.MaxSequences), context, config.NKvHeads, config.HeadDim, dtype);
        if (weights + cache > options.MemoryBudgetBytes)
        {
            throw new InvalidOperationException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The torch backend needs {weights:N0} B of {TorchBackendOptions.Name(dtype)} weights and {cache:N0} B of KV cache on {options.Device}; that exceeds its memory budget of {options.MemoryBudgetBytes:N0} B. Lower the context length or sequences, or use a smaller dtype."));
        }
    }
}
