using System.Runtime.InteropServices;
using Alpaca.Inference.Backends;
using Alpaca.Inference.Model;
using Alpaca.Llm.Models;
using Alpaca.Trainer.Model;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Alpaca.Inference.Torch;

/// <summary>
/// The LLaMA forward pass as TorchSharp tensors, over the trainer's <see cref="LlamaForCausalLM"/> (its
/// RMSNorm, projections, SwiGLU MLP, head and rotary embedding are used as they are), with serving's own
/// attention: every token of a batch writes its key and value into its sequence's preallocated cache row,
/// then
/// <list type="bullet">
/// <item>sequences with one token in the batch (decoding) attend together in one
/// <c>scaled_dot_product_attention</c> over the cache of every slot, each query group viewed as
/// [slot, kv_head, group, head_dim] so grouped-query attention needs no repeated K/V, masked to each
/// slot's length;</item>
/// <item>sequences with several tokens (a prompt chunk) attend one by one, causally from their cached prefix.</item>
/// </list>
/// Token-parallel work (embedding, norms, projections, MLP, head) runs once over all the batch's tokens.
/// Each chunk runs under no_grad in its own dispose scope, so a step frees everything it made and the KV
/// cache is the only state that lives between steps. Not thread-safe: one forward at a time.
/// </summary>
public sealed class TorchTransformer : IEngineBackend
{
    private readonly LlamaForCausalLM _model;
    private readonly Layer[] _layers;
    private readonly nn.Module<Tensor, Tensor> _norm;
    private readonly Tensor _embedding;
    private readonly float[] _invFreq;
    private readonly TorchKvCache _cache;
    private readonly int _maxTokens;
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly bool _roundKv;
    private float[] _logits = [];
    private int _logitRows;

    /// <summary>Takes ownership of <paramref name="model"/>, which must already be on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public TorchTransformer(LlamaForCausalLM model, Device device, ScalarType dtype, TorchBackendOptions options)
    {
        _model = model;
        Config = model.Config;
        TorchDevice = device;
        DType = dtype;
        _heads = Config.NHeads;
        _kvHeads = Config.NKvHeads;
        _headDim = Config.HeadDim;
        _maxTokens = Math.Max(1, options.MaxBatchTokens);
        _roundKv = options.RoundKvToHalf && dtype == ScalarType.Float32;
        var context = options.ContextLength > 0 ? options.ContextLength : Config.ContextLength;
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        _layers = Enumerable.Range(0, Config.NLayers).Select(l => new Layer(modules, $"model.layers.{l}")).ToArray();
        _norm = (nn.Module<Tensor, Tensor>)modules["model.norm"];
        _embedding = model.named_parameters().First(p => p.name == LlamaTensorNames.Hf.TokenEmbedding).parameter;
        // With the model's rope scaling (Llama 3.1 rope_freqs), exactly as the trainer's model and the CPU engine compute it.
        _invFreq = RotaryEmbedding.InverseFrequencies(Config);
        WeightBytes = model.parameters().Sum(p => p.numel()) * TorchBackendOptions.Bytes(dtype);
        _cache = new TorchKvCache(Config.NLayers, Math.Max(1, options.MaxSequences), context, _kvHeads, _headDim, dtype, device);
    }

    public string Backend => "torch";

    public string Device => TorchDevice.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, TorchDevice.index)}" : "cpu";

    public Device TorchDevice { get; }

    public ScalarType DType { get; }

    public LlamaConfig Config { get; }

    public int VocabSize => Config.VocabSize;

    public int Threads => torch.get_num_threads();

    public string WeightType => TorchBackendOptions.Name(DType);

    public long WeightBytes { get; }

    /// <summary>Bytes of the preallocated KV cache on the device.</summary>
    public long CacheBytes => _cache.Bytes;

    public IKvSlots Cache => _cache.Table;

    public int LogitRows => _logitRows;

    public ReadOnlySpan<float> Logits(int index)
    {
        if ((uint)index >= (uint)_logitRows)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The last batch produced {_logitRows} logit rows.");
        }

        return _logits.AsSpan(index * VocabSize, VocabSize);
    }

    public void Forward(Batch batch)
    {
        BatchValidation.Check(batch, _cache.Table, VocabSize);
        _logitRows = batch.LogitCount;
        if (_logits.Length < _logitRows * VocabSize)
        {
            _logits = new float[_logitRows * VocabSize];
        }

        using var noGrad = no_grad();
        var logitRow = 0;
        for (var start = 0; start < batch.Count; start += _maxTokens)
        {
            logitRow = ForwardChunk(batch, start, Math.Min(_maxTokens, batch.Count - start), logitRow);
        }
    }

    private int ForwardChunk(Batch batch, int start, int n, int logitRow)
    {
        using var scope = NewDisposeScope();
        var plan = ChunkPlan.Build(batch, start, n, _cache.Table.Slots);
        var device = TorchDevice;
        var tokens = tensor(plan.Tokens, device: device);
        var positions = tensor(plan.Positions, device: device);
        var slots = tensor(plan.SlotOfToken, device: device);

        var x = _embedding.index_select(0, tokens); // [n, dim]
        var (cos, sin) = RotaryEmbedding.CosSin(positions.unsqueeze(0), _invFreq, DType); // [1, 1, n, head_dim]
        var prefill = plan.Runs.Select(r => new PrefillRun(r, device)).ToArray();
        var decode = plan.DecodeRows.Length > 0 ? new DecodeGroup(plan, device) : null;

        for (var l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            var h = layer.InputNorm.forward(x);
            var q = RotaryEmbedding.Apply(layer.Q.forward(h).view(n, _heads, _headDim).transpose(0, 1).unsqueeze(0), cos, sin);
            var k = RotaryEmbedding.Apply(layer.K.forward(h).view(n, _kvHeads, _headDim).transpose(0, 1).unsqueeze(0), cos, sin);
            var v = layer.V.forward(h).view(n, _kvHeads, _headDim);
            if (_roundKv)
            {
                k = k.to(ScalarType.Float16).to(ScalarType.Float32);
                v = v.to(ScalarType.Float16).to(ScalarType.Float32);
            }

            // Every token's key and value into its slot's row at its position, before anyone attends.
            var keys = _cache.Keys[l];
            var values = _cache.Values[l];
            keys.index_put_(k[0].transpose(0, 1), TensorIndex.Tensor(slots), TensorIndex.Colon, TensorIndex.Tensor(positions));
            values.index_put_(v, TensorIndex.Tensor(slots), TensorIndex.Colon, TensorIndex.Tensor(positions));

            if (_roundKv)
            {
                q = q.to(ScalarType.Float16).to(ScalarType.Float32);
            }

            var queries = q[0].transpose(0, 1); // [n, heads, head_dim]
            var attended = empty([n, _heads, _headDim], dtype: DType, device: device);
            foreach (var run in prefill)
            {
                attended.index_copy_(0, run.Rows, AttendPrefill(queries, keys, values, run));
            }

            if (decode is not null)
            {
                attended.index_copy_(0, decode.Rows, AttendDecode(queries, keys, values, decode));
            }

            x = x + layer.O.forward(attended.view(n, _heads * _headDim));
            x = x + layer.Mlp.forward(layer.PostNorm.forward(x));
        }

        foreach (var (slot, length) in plan.FinalLengths)
        {
            _cache.Table.SetLength(slot, length);
        }

        if (plan.LogitRows.Length == 0)
        {
            return logitRow;
        }

        var rows = x.index_select(0, tensor(plan.LogitRows, device: device));
        var logits = _model.Logits(_norm.forward(rows)).to(ScalarType.Float32).cpu().contiguous();
        MemoryMarshal.Cast<byte, float>(logits.bytes).CopyTo(_logits.AsSpan(logitRow * VocabSize));
        return logitRow + plan.LogitRows.Length;
    }

    // One sequence's prompt chunk: its queries against its cached prefix and itself, causally.
    private Tensor AttendPrefill(Tensor queries, Tensor keys, Tensor values, PrefillRun run)
    {
        var q = queries.index_select(0, run.Rows).transpose(0, 1).unsqueeze(0); // [1, heads, L, head_dim]
        var k = keys.narrow(0, run.Slot, 1).narrow(2, 0, run.Visible);          // [1, kv_heads, visible, head_dim]
        var v = values.narrow(0, run.Slot, 1).narrow(2, 0, run.Visible);
        if (_kvHeads != _heads)
        {
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }

        var o = F.scaled_dot_product_attention(q, k, v, attn_mask: run.Mask);
        return o[0].transpose(0, 1); // [L, heads, head_dim]
    }

    // Every decoding sequence at once: queries scattered to their slots as [slot, kv_head, group, head_dim]
    // (the group of query heads sharing a KV head plays the role of the query length), keys and values the
    // cache of every slot up to the longest length, each slot masked to its own length.
    private Tensor AttendDecode(Tensor queries, Tensor keys, Tensor values, DecodeGroup group)
    {
        var g = _heads / _kvHeads;
        var rows = queries.index_select(0, group.Rows).view(group.Count, _kvHeads, g, _headDim);
        var q = zeros([_cache.Table.Slots, _kvHeads, g, _headDim], dtype: DType, device: TorchDevice);
        q.index_copy_(0, group.Slots, rows);
        var o = F.scaled_dot_product_attention(q, keys.narrow(2, 0, group.Visible), values.narrow(2, 0, group.Visible), attn_mask: group.Mask);
        return o.index_select(0, group.Slots).view(group.Count, _heads, _headDim);
    }

    public void Dispose()
    {
        _cache.Dispose();
        _model.Dispose();
    }

    private sealed class Layer
    {
        public Layer(Dictionary<string, nn.Module> modules, string prefix)
        {
            InputNorm = (nn.Module<Tensor, Tensor>)modules[prefix + ".input_layernorm"];
            Q = (nn.Module<Tensor, Tensor>)modules[prefix + ".self_attn.q_proj"];
            K = (nn.Module<Tensor, Tensor>)modules[prefix + ".self_attn.k_proj"];
            V = (nn.Module<Tensor, Tensor>)modules[prefix + ".self_attn.v_proj"];
            O = (nn.Module<Tensor, Tensor>)modules[prefix + ".self_attn.o_proj"];
            PostNorm = (nn.Module<Tensor, Tensor>)modules[prefix + ".post_attention_layernorm"];
            Mlp = (nn.Module<Tensor, Tensor>)modules[prefix + ".mlp"];
        }

        public nn.Module<Tensor, Tensor> InputNorm { get; }

        public nn.Module<Tensor, Tensor> Q { get; }

        public nn.Module<Tensor, Tensor> K { get; }

        public nn.Module<Tensor, Tensor> V { get; }

        public nn.Module<Tensor, Tensor> O { get; }

        public nn.Module<Tensor, Tensor> PostNorm { get; }

        public nn.Module<Tensor, Tensor> Mlp { get; }
    }

    // Device tensors of one prompt run, made once per chunk and shared by every layer.
    private sealed class PrefillRun
    {
        public PrefillRun(ChunkPlan.Run run, Device device)
        {
            Slot = run.Slot;
            Visible = run.FirstPosition + run.Rows.Length;
            Rows = tensor(run.Rows, device: device);
            // Query i (at position first + i) sees cache positions 0..first + i.
            var query = arange(run.Rows.Length, dtype: ScalarType.Int64, device: device).unsqueeze(1) + run.FirstPosition;
            Mask = arange(Visible, dtype: ScalarType.Int64, device: device).unsqueeze(0).le(query);
        }

        public int Slot { get; }

        public int Visible { get; }

        public Tensor Rows { get; }

        public Tensor Mask { get; }
    }

    private sealed class DecodeGroup
    {
        public DecodeGroup(ChunkPlan plan, Device device)
        {
            Count = plan.DecodeRows.Length;
            Rows = tensor(plan.DecodeRows, device: device);
            Slots = tensor(plan.DecodeSlots, device: device);
            Visible = plan.DecodeVisible;
            // Slots not decoding in this step see position 0 only (their rows are discarded; an all-false
            // row would make softmax NaN).
            Mask = arange(Visible, dtype: ScalarType.Int64, device: device).unsqueeze(0).le(tensor(plan.DecodeLastPosition, device: device).unsqueeze(1)).view(-1, 1, 1, Visible);
        }

        public int Count { get; }

        public Tensor Rows { get; }

        public Tensor Slots { get; }

        public int Visible { get; }

        public Tensor Mask { get; }
    }
}
