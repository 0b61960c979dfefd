using System.Security.Cryptography;
using System.Text;
using Alpaca.Llm.Hub;
using Alpaca.Llm.Safetensors;
using Alpaca.TestSupport;
using Alpaca.TestSupport.Hub;

namespace Alpaca.Llm.Tests.Hub;

/// <summary>Pulls through a loopback Hub (and CDN) that speaks huggingface.co's protocol, into a real HF cache layout.</summary>
public sealed class HubPullTests : IAsyncLifetime
{
    private const string GgufRepo = "TheBloke/TinyLlama-Chat-GGUF";
    private readonly HubServer _hub = new();
    private readonly TempDir _dir = new("hub-pull");
    private readonly byte[] _q4km = RandomNumberGenerator.GetBytes(300_000);
    private string _commit = "";

    public Task InitializeAsync()
    {
        _commit = _hub.AddRepo(GgufRepo, new Dictionary<string, byte[]>
        {
            ["README.md"] = "# TinyLlama chat\n"u8.ToArray(),
            ["tinyllama-chat.Q4_K_M.gguf"] = _q4km,
            ["tinyllama-chat.Q4_K_S.gguf"] = RandomNumberGenerator.GetBytes(1000),
            ["tinyllama-chat.Q5_K_M.gguf"] = RandomNumberGenerator.GetBytes(1000),
            ["tinyllama-chat.Q8_0.gguf"] = RandomNumberGenerator.GetBytes(1000),
            ["other.Q8_0.gguf"] = RandomNumberGenerator.GetBytes(1000),
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _dir.Dispose();
    }

    private HubCache Cache => new(Path.Combine(_dir.Path, "hub"));

    private HubPuller Puller(string? token = null, int attempts = 4) =>
        new(new HubClient(_hub.Endpoint, token), Cache) { Attempts = attempts };

    [Fact]
    public async Task A_quant_tag_picks_its_gguf_through_the_cdn_redirect_into_the_hf_cache_and_a_second_pull_is_free()
    {
        var result = await Puller(token: "hf_sent_to_the_hub_only").PullAsync(HubReference.Parse(GgufRepo + ":q4_k_m"));

        Assert.Equal(_commit, result.Commit);
        Assert.Equal(_q4km, File.ReadAllBytes(result.Path));
        var sha = HubServer.Sha256(_q4km);
        var repoFolder = Path.Combine(_dir.Path, "hub", "models--TheBloke--TinyLlama-Chat-GGUF");
        Assert.Equal(Path.Combine(repoFolder, "snapshots", _commit, "tinyllama-chat.Q4_K_M.gguf"), result.Path);
        Assert.Equal(Path.Combine("..", "..", "blobs", sha), new FileInfo(result.Path).LinkTarget);
        Assert.True(File.Exists(Path.Combine(repoFolder, "blobs", sha)));
        Assert.Equal(_commit, File.ReadAllText(Path.Combine(repoFolder, "refs", "main")));
        Assert.Empty(Directory.GetFiles(Path.Combine(repoFolder, "blobs"), "*.incomplete"));

        // The token went to the Hub, never to the CDN; the blob came from the CDN in one GET.
        Assert.All(_hub.Requests.Where(r => r.Host == "hub"), r => Assert.Equal("Bearer hf_sent_to_the_hub_only", r.Authorization));
        Assert.All(_hub.Requests.Where(r => r.Host == "cdn"), r => Assert.Null(r.Authorization));
        Assert.Equal(1, _hub.Count("cdn", "GET"));

        // Again: metadata only (the listing and a HEAD), no blob transfer.
        var again = await Puller().PullAsync(HubReference.Parse(GgufRepo + ":Q4_K_M"));
        Assert.Equal(0, again.BytesDownloaded);
        Assert.Equal(1, _hub.Count("cdn", "GET"));
        Assert.Equal(2, _hub.Count("hub", "HEAD"));

        // Pinned to the commit: no request at all.
        var before = _hub.Requests.Count;
        var pinned = await Puller().PullAsync(HubReference.Parse($"{GgufRepo}@{_commit}:Q4_K_M"));
        Assert.True(pinned.Offline);
        Assert.Equal(result.Path, pinned.Path);
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public async Task A_safetensors_repository_pulls_config_tokenizer_shards_and_index_at_a_pinned_tag()
    {
        using var model = new TempDir("hub-model");
        var writer = new SafetensorsCheckpointWriter { MaxShardBytes = 400 };
        for (var i = 0; i < 3; i++)
        {
            writer.Add($"layer.{i}.weight", SafetensorsDType.F32, [64], new byte[256]);
        }

        writer.WriteTo(model.Path);
        var files = Directory.GetFiles(model.Path).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);
        files["config.json"] = """{"architectures": ["LlamaForCausalLM"]}"""u8.ToArray();
        files["tokenizer.json"] = """{"model": {}}"""u8.ToArray();
        files["README.md"] = "not a model file"u8.ToArray();
        files["pytorch_model.bin"] = new byte[10];
        files["onnx/model.onnx"] = new byte[10];
        var commit = _hub.AddRepo("org/tiny-llama", files, gated: false, "main", "v1.0");

        var result = await Puller().PullAsync(HubReference.Parse("org/tiny-llama@v1.0"));
        Assert.Equal(Path.Combine(_dir.Path, "hub", "models--org--tiny-llama", "snapshots", commit), result.Path);
        Assert.Equal(
            ["config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", SafetensorsCheckpoint.IndexFileName, "tokenizer.json"],
            result.Files);
        using (var checkpoint = SafetensorsCheckpoint.Open(result.Path))
        {
            Assert.Equal(3, checkpoint.TensorNames.Count);
        }

        // A small file's blob is named by its git blob id (verified), and the tag's ref records the commit.
        var config = Path.Combine(result.Path, "config.json");
        Assert.Equal(Path.Combine("..", "..", "blobs", HubServer.GitBlobSha1(files["config.json"])), new FileInfo(config).LinkTarget);
        Assert.Equal(commit, File.ReadAllText(Path.Combine(_dir.Path, "hub", "models--org--tiny-llama", "refs", "v1.0")));
        Assert.Equal(0, (await Puller().PullAsync(HubReference.Parse($"org/tiny-llama@{commit}"))).BytesDownloaded);
    }

    [Fact]
    public async Task An_interrupted_transfer_resumes_with_a_range_request()
    {
        var sha = HubServer.Sha256(_q4km);
        _hub.CutOnce[sha] = 100_000;

        // One attempt: the pull fails and leaves the .incomplete blob, as a killed process would.
        await Assert.ThrowsAnyAsync<IOException>(() => Puller(attempts: 1).PullAsync(HubReference.Parse(GgufRepo + "/tinyllama-chat.Q4_K_M.gguf")));
        var partial = Path.Combine(_dir.Path, "hub", "models--TheBloke--TinyLlama-Chat-GGUF", "blobs", sha + ".incomplete");
        Assert.Equal(100_000, new FileInfo(partial).Length);

        var result = await Puller().PullAsync(HubReference.Parse(GgufRepo + "/tinyllama-chat.Q4_K_M.gguf"));
        Assert.Equal(_q4km, File.ReadAllBytes(result.Path));
        Assert.Equal(_q4km.Length - 100_000, result.BytesDownloaded);
        Assert.Equal("bytes=100000-", _hub.Requests.Last(r => r.Host == "cdn").Range);
        Assert.False(File.Exists(partial));

        // Cut again within one pull: the retry resumes by itself.
        _hub.AddRepo("org/other", new Dictionary<string, byte[]> { ["m.gguf"] = _q4km.Reverse().ToArray() });
        var otherSha = HubServer.Sha256(_q4km.Reverse().ToArray());
        _hub.CutOnce[otherSha] = 50_000;
        var other = await Puller().PullAsync(HubReference.Parse("org/other/m.gguf"));
        Assert.Equal(HubServer.Sha256(File.ReadAllBytes(other.Path)), otherSha);
        Assert.Equal("bytes=50000-", _hub.Requests.Last(r => r.Host == "cdn").Range);
    }

    [Fact]
    public async Task Bytes_that_do_not_hash_to_the_lfs_object_id_are_deleted_and_refused()
    {
        _hub.Corrupt.Add(HubServer.Sha256(_q4km));
        var e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse(GgufRepo + ":Q4_K_M")));
        Assert.Contains("the Hub names the object " + HubServer.Sha256(_q4km), e.Message);
        var blobs = Path.Combine(_dir.Path, "hub", "models--TheBloke--TinyLlama-Chat-GGUF", "blobs");
        Assert.Empty(Directory.GetFiles(blobs));
    }

    [Fact]
    public async Task Gated_missing_and_ambiguous_references_say_what_to_do()
    {
        _hub.AddRepo("meta-llama/Gated", new Dictionary<string, byte[]> { ["m.Q4_K_M.gguf"] = new byte[100] }, gated: true);
        var e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse("meta-llama/Gated:Q4_K_M")));
        Assert.Equal(401, e.StatusCode);
        Assert.Contains($"accept its licence at {_hub.Endpoint}/meta-llama/Gated", e.Message);
        Assert.Contains("No HF_TOKEN is set", e.Message);
        e = await Assert.ThrowsAsync<HubException>(() => Puller(token: "wrong").PullAsync(HubReference.Parse("meta-llama/Gated/m.Q4_K_M.gguf")));
        Assert.Equal(403, e.StatusCode);
        Assert.Contains("does not grant access", e.Message);
        Assert.Equal(100, File.ReadAllBytes((await Puller(token: _hub.Token).PullAsync(HubReference.Parse("meta-llama/Gated:Q4_K_M"))).Path).Length);

        e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse(GgufRepo + "/missing.gguf")));
        Assert.Contains("has no file 'missing.gguf'", e.Message);
        e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse("nobody/nothing:Q4_K_M")));
        Assert.Equal(404, e.StatusCode);
        e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse(GgufRepo + "@v9:Q4_K_M")));
        Assert.Contains("no revision 'v9'", e.Message);
        e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse(GgufRepo + ":Q8_0")));
        Assert.Contains("ambiguous", e.Message);
        Assert.Contains("other.Q8_0.gguf", e.Message);
        Assert.Contains("tinyllama-chat.Q8_0.gguf", e.Message);
        e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse(GgufRepo + ":Q4_K")));
        Assert.Contains("no GGUF for 'Q4_K'", e.Message);
        e = await Assert.ThrowsAsync<HubException>(() => Puller().PullAsync(HubReference.Parse(GgufRepo)));
        Assert.Contains("holds GGUF files", e.Message);
    }

    [Fact]
    public void Cli_pull_prints_the_snapshot_path_with_plain_progress_and_explains_a_401()
    {
        var env = new Dictionary<string, string?> { ["HF_ENDPOINT"] = _hub.Endpoint, ["HF_HOME"] = _dir.Path, ["HF_HUB_CACHE"] = null, ["HF_TOKEN"] = null };
        var (code, output, err) = AlpacaCli.Run(env, "pull", GgufRepo + ":Q4_K_M");
        Assert.True(code == 0, err);
        var path = output.Trim();
        Assert.Equal(Path.Combine(_dir.Path, "hub", "models--TheBloke--TinyLlama-Chat-GGUF", "snapshots", _commit, "tinyllama-chat.Q4_K_M.gguf"), path);
        Assert.Contains("(100%)", err);
        Assert.Equal(_q4km, File.ReadAllBytes(path));

        _hub.AddRepo("meta-llama/Gated", new Dictionary<string, byte[]> { ["m.gguf"] = new byte[10] }, gated: true);
        (code, _, err) = AlpacaCli.Run(env, "pull", "meta-llama/Gated/m.gguf");
        Assert.Equal(2, code);
        Assert.Contains("accept its licence at", err);
        Assert.Contains(Encoding.UTF8.GetString("meta-llama/Gated"u8), err);
    }
}
