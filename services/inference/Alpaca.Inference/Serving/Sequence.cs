using System.Diagnostics;
using System.Threading.Channels;
using Alpaca.Inference.Sampling;
using Alpaca.Tokenizers;

namespace Alpaca.Inference.Serving;

/// <summary>The scheduler's state of one request: where its prompt is, what it generated, its sampler and text state.</summary>
internal sealed class Sequence
{
    public Sequence(SequenceRequest request, ulong seed, int vocabSize, ITextTokenizer tokenizer, CancellationToken cancellation)
    {
        Request = request;
        Seed = seed;
        Cancellation = cancellation;
        Sampler = new Sampler(request.Sampling with { Seed = seed }, vocabSize);
        Sampler.Accept(request.PromptTokens);
        Detokenizer = tokenizer.CreateStreamingDetokenizer();
        Stops = new StopWatcher(request.Stop);
        Prefill = request.PromptTokens.Count;
        SubmittedAt = Stopwatch.GetTimestamp();
    }

    public SequenceRequest Request { get; }

    public ulong Seed { get; }

    public CancellationToken Cancellation { get; }

    public Channel<SequenceEvent> Events { get; } = Channel.CreateUnbounded<SequenceEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public Sampler Sampler { get; }

    public StreamingDetokenizer Detokenizer { get; }

    public StopWatcher Stops { get; }

    /// <summary>KV cache slot, or -1 while waiting.</summary>
    public int Slot { get; set; } = -1;

    /// <summary>Tokens written to the KV cache (prompt chunks, then fed-back generated tokens).</summary>
    public int Cached { get; set; }

    /// <summary>Prompt tokens put in the current step's batch.</summary>
    public int Scheduled { get; set; }

    /// <summary>
    /// Tokens to prefill before decoding: the prompt, or after a preemption the prompt and every generated
    /// token but the last (which is fed back as a decode step, as it would have been).
    /// </summary>
    public int Prefill { get; set; }

    /// <summary>True while prompt (or, resumed, history) tokens remain to be processed.</summary>
    public bool Prefilling => Cached < Prefill;

    /// <summary>Generated token ids, in order (what a resumed sequence re-prefills).</summary>
    public List<int> Output { get; } = [];

    /// <summary>Times this sequence lost its KV blocks to a preemption.</summary>
    public int Preemptions { get; set; }

    /// <summary>Token <paramref name="index"/> of the sequence so far: prompt, then output.</summary>
    public int TokenAt(int index) => index < Request.PromptTokens.Count ? Request.PromptTokens[index] : Output[index - Request.PromptTokens.Count];

    /// <summary>Prompt and output as one list (the prefix-cache lookup key).</summary>
    public IReadOnlyList<int> History => Output.Count == 0 ? Request.PromptTokens : [.. Request.PromptTokens, .. Output];

    /// <summary>Drops the sequence's KV state: it will re-prefill its history and continue where it was.</summary>
    public void Preempt()
    {
        Slot = -1;
        Cached = 0;
        Scheduled = 0;
        Prefill = Request.PromptTokens.Count + Math.Max(0, Generated - 1);
        Preemptions++;
    }

    /// <summary>The last sampled token, fed to the model at position <see cref="Cached"/> next step.</summary>
    public int NextInput { get; set; } = -1;

    public int Generated { get; set; }

    /// <summary>Speculative decoding: the sequence's slot in the draft model's KV cache, or -1.</summary>
    public int DraftSlot { get; set; } = -1;

    /// <summary>Draft tokens to propose (and verify) this step; 0 = an ordinary decode step.</summary>
    public int DraftBudget { get; set; }

    /// <summary>This step's proposals, fed to the target after <see cref="NextInput"/> (allocated on first use).</summary>
    public int[] Draft { get; set; } = [];

    /// <summary>Logits with EOS and stop ids masked (min_tokens), allocated on first use.</summary>
    public float[]? Masked { get; set; }

    public long SubmittedAt { get; }

    public long LastTokenAt { get; set; }

    public bool Expired(DateTime now) => Cancellation.IsCancellationRequested || (Request.Deadline is { } d && now >= d);
}
