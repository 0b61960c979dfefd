using Alpaca.Trainer.Model;
using Alpaca.Trainer.Tests.Reference;
using Xunit;
using static TorchSharp.torch;

namespace Alpaca.Trainer.Tests.Model;

public sealed class LlamaModelTests
{
    [Fact]
    public void Parameter_names_are_the_Hugging_Face_keys()
    {
        using var model = TinyModels.Create(TinyModels.Config(tied: false));
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        var expected = new HashSet<string> { "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight" };
        for (var i = 0; i < 2; i++)
        {
            foreach (var n in new[]
            {
                "input_layernorm.weight", "post_attention_layernorm.weight",
                "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
            })
            {
                expected.Add($"model.layers.{i}.{n}");
            }
        }

        Assert.Equal(expected.OrderBy(x => x), names.OrderBy(x => x));
        Assert.Empty(model.named_buffers());

        var state = model.state_dict();
        Assert.Equal([16, 32], state["model.layers.1.self_attn.k_proj.weight"].shape); // 2 KV heads × 8
        Assert.Equal([32, 32], state["model.layers.1.self_attn.q_proj.weight"].shape);
    }

    [Fact]
    public void A_tied_model_has_no_lm_head_and_uses_the_embedding()
    {
        using var model = TinyModels.Create(TinyModels.Config(tied: true));
        Assert.DoesNotContain(model.named_parameters(), p => p.name == "lm_head.weight");
        using var ids = TinyModels.Tokens(1, 5, 61, 3);
        using var _ = no_grad();
        using var logits = model.forward(ids);
        using var hidden = model.HiddenStates(ids);
        using var manual = hidden.matmul(model.state_dict()["model.embed_tokens.weight"].t());
        Assert.True(logits.allclose(manual, rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_matches_the_plain_scalar_reference(bool tied)
    {
        // fp32 TorchSharp against a float64 loop implementation: differences are fp32 rounding over
        // 2 layers of width 32 (~1e-6 relative); 1e-4 absolute on logits of magnitude ~1 leaves margin
        // while any layout mistake (RoPE halves, GQA grouping, norm order) moves logits by > 1e-1.
        var config = TinyModels.Config(tied);
        using var model = TinyModels.Create(config);
        model.eval();
        var reference = new NaiveLlama(config, model.state_dict());
        using var ids = TinyModels.Tokens(2, 9, config.VocabSize, 11);
        using var _ = no_grad();
        using var logits = model.forward(ids);
        for (var row = 0; row < 2; row++)
        {
            var tokens = ids[row].data<long>().Select(v => (int)v).ToArray();
            var expected = reference.Logits(tokens);
            var actual = logits[row].to(ScalarType.Float64).data<double>().ToArray();
            for (var t = 0; t < tokens.Length; t++)
            {
                for (var v = 0; v < config.VocabSize; v++)
                {
                    Assert.True(Math.Abs(expected[t][v] - actual[(t * config.VocabSize) + v]) < 1e-4, $"row {row} t {t} v {v}: {expected[t][v]} vs {actual[(t * config.VocabSize) + v]}");
                }
            }
        }
    }

    [Fact]
    public void Packed_examples_see_only_themselves()
    {
        // Two sequences packed into one row, positions restarting, block-diagonal mask: each half must
        // give the logits it gives alone.
        var config = TinyModels.Config();
        using var model = TinyModels.Create(config);
        model.eval();
        using var _ = no_grad();
        using var a = TinyModels.Tokens(1, 5, config.VocabSize, 1);
        using var b = TinyModels.Tokens(1, 4, config.VocabSize, 2);
        using var packed = cat([a, b], dim: 1);
        using var positions = tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 3 }).view(1, 9);
        var batch = new Trainer.Data.MicroBatch(1, 9, new long[9], new long[9], null, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
        using var mask = Trainer.Training.CausalLmLoss.SegmentMask(batch, CPU);
        using var hidden = model.HiddenStates(packed, positions, mask);
        using var logits = model.Logits(hidden);
        using var alone = model.forward(a);
        using var aloneB = model.forward(b);
        Assert.True(logits.narrow(1, 0, 5).allclose(alone, rtol: 1e-5, atol: 1e-5));
        Assert.True(logits.narrow(1, 5, 4).allclose(aloneB, rtol: 1e-5, atol: 1e-5));
    }
}
