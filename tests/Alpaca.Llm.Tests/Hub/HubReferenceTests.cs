using Alpaca.Llm.Hub;

namespace Alpaca.Llm.Tests.Hub;

public class HubReferenceTests
{
    [Theory]
    [InlineData("TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF:Q4_K_M", "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "main", HubTarget.Quantization, "Q4_K_M")]
    [InlineData("hf://org/repo@v1.0:q5_k_m", "org/repo", "v1.0", HubTarget.Quantization, "q5_k_m")]
    [InlineData("org/repo/sub/model.Q6_K.gguf", "org/repo", "main", HubTarget.File, "sub/model.Q6_K.gguf")]
    [InlineData("hf.co/org/repo@0123456789abcdef0123456789abcdef01234567/m.gguf", "org/repo", "0123456789abcdef0123456789abcdef01234567", HubTarget.File, "m.gguf")]
    [InlineData("meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B", "main", HubTarget.Repository, null)]
    [InlineData("org/repo@refs%2Fpr%2F1", "org/repo", "refs/pr/1", HubTarget.Repository, null)]
    public void References_parse(string text, string repo, string revision, HubTarget target, string? detail)
    {
        var r = HubReference.Parse(text);
        Assert.Equal((repo, revision, target), (r.RepoId, r.Revision, r.Target));
        Assert.Equal(detail, target == HubTarget.File ? r.FileName : r.Quantization);
        Assert.Equal(revision.Length == 40, r.IsCommitPinned);
    }

    [Theory]
    [InlineData("just-a-name")]
    [InlineData("org/repo/../etc/passwd")]
    [InlineData("org/repo:")]
    [InlineData("/abs/path.gguf")]
    public void Non_references_are_refused(string text)
    {
        Assert.False(HubReference.TryParse(text, out _, out var error) && !text.StartsWith('/'), error);
        Assert.False(HubReference.LooksLikeReference(text));
    }
}
