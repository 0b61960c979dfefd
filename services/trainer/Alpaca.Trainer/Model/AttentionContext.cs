using static TorchSharp.torch;

namespace Alpaca.Trainer.Model;

/// <summary>
/// What every layer's attention needs besides its input: rotary cos/sin for the positions, and an
/// optional boolean mask [B, 1, T, T] (true = may attend). Without a mask attention is plain causal,
/// which is exact for right-padded batches: real tokens never see the padding that follows them.
/// The tensors belong to the dispose scope of the forward pass that made them.
/// </summary>
public sealed record AttentionContext(Tensor Cos, Tensor Sin, Tensor? Mask);
