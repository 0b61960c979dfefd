using Alpaca.Llm.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Alpaca.Trainer.Model;

/// <summary>
/// LLaMA with its language-model head (HF <c>LlamaForCausalLM</c>). State-dict keys are exactly the
/// Hugging Face ones: <c>model.embed_tokens.weight</c>, <c>model.layers.N.self_attn.q_proj.weight</c>, …,
/// <c>model.norm.weight</c>, and <c>lm_head.weight</c> unless the head is tied to the embedding.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module<Tensor, Tensor>
{
    private readonly LlamaModel model;
    private readonly Linear? lm_head;

    public LlamaForCausalLM(LlamaConfig config, ProjectionFactory? projections = null) : base(nameof(LlamaForCausalLM))
    {
        config.Validate();
        Config = config;
        Projections = projections ?? new ProjectionFactory();
        model = new LlamaModel(config, Projections);
        lm_head = config.TiedEmbeddings ? null : nn.Linear(config.Dim, config.VocabSize, hasBias: false);
        RegisterComponents();
    }

    public LlamaConfig Config { get; }

    public ProjectionFactory Projections { get; }

    /// <summary>Final hidden states [B, T, hidden]; see <see cref="LlamaModel.forward"/>.</summary>
    public Tensor HiddenStates(Tensor inputIds, Tensor? positionIds = null, Tensor? attentionMask = null) =>
        model.forward(inputIds, positionIds, attentionMask);

    /// <summary>Vocabulary logits for hidden states of any leading shape.</summary>
    public Tensor Logits(Tensor hidden) =>
        lm_head is null ? F.linear(hidden, model.EmbeddingWeight) : lm_head.forward(hidden);

    /// <summary>Logits [B, T, vocab] for token ids [B, T].</summary>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        return Logits(HiddenStates(inputIds)).MoveToOuterDisposeScope();
    }
}
