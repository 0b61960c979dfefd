using System.Text.RegularExpressions;

namespace Alpaca.Llm.Hub;

/// <summary>What a reference asks for: one named file, the GGUF of a quantization, or the whole (safetensors) repository.</summary>
public enum HubTarget
{
    Repository,
    File,
    Quantization,
}

/// <summary>
/// A Hugging Face Hub model reference: <c>org/repo</c> (the whole repository), <c>org/repo:Q4_K_M</c> (the GGUF whose
/// name carries that quantization tag), <c>org/repo/path/file.gguf</c> (one file), each with an optional revision
/// after the repository name (<c>org/repo@v1.0:Q4_K_M</c>, <c>org/repo@&lt;commit&gt;/file.gguf</c>) and an optional
/// <c>hf://</c>, <c>hf.co/</c> or <c>huggingface.co/</c> prefix.
/// </summary>
public sealed partial record HubReference(string RepoId, string Revision, HubTarget Target, string? FileName, string? Quantization)
{
    public const string DefaultRevision = "main";

    /// <summary>True when the revision is a full commit hash: a cached snapshot of it can never change.</summary>
    public bool IsCommitPinned => CommitPattern().IsMatch(Revision);

    public override string ToString() => RepoId + (Revision == DefaultRevision ? "" : "@" + Revision) + Target switch
    {
        HubTarget.File => "/" + FileName,
        HubTarget.Quantization => ":" + Quantization,
        _ => "",
    };

    /// <summary>Parses a reference; false (with the reason) when <paramref name="text"/> is not one.</summary>
    public static bool TryParse(string text, out HubReference reference, out string error)
    {
        reference = null!;
        var s = text.Trim();
        foreach (var prefix in new[] { "hf://", "https://huggingface.co/", "huggingface.co/", "hf.co/" })
        {
            if (s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                s = s[prefix.Length..];
                break;
            }
        }

        var m = ReferencePattern().Match(s);
        if (!m.Success)
        {
            error = $"'{text}' is not a Hub reference (org/repo, org/repo:Q4_K_M or org/repo/file.gguf, with an optional @revision after the repository).";
            return false;
        }

        var repo = m.Groups["org"].Value + "/" + m.Groups["name"].Value;
        var revision = m.Groups["rev"].Success ? Uri.UnescapeDataString(m.Groups["rev"].Value) : DefaultRevision;
        if (m.Groups["file"].Success)
        {
            var file = m.Groups["file"].Value;
            if (file.Split('/').Any(p => p is "" or "." or ".."))
            {
                error = $"'{text}': '{file}' is not a file path inside the repository.";
                return false;
            }

            reference = new HubReference(repo, revision, HubTarget.File, file, null);
        }
        else if (m.Groups["quant"].Success)
        {
            reference = new HubReference(repo, revision, HubTarget.Quantization, null, m.Groups["quant"].Value);
        }
        else
        {
            reference = new HubReference(repo, revision, HubTarget.Repository, null, null);
        }

        error = "";
        return true;
    }

    public static HubReference Parse(string text) =>
        TryParse(text, out var r, out var error) ? r : throw new ArgumentException(error, nameof(text));

    /// <summary>
    /// A model argument names the Hub when it is not a path that exists here and reads as a reference; an explicit
    /// <c>hf://</c> always does. Local files win so that a relative folder like <c>models/llama</c> keeps working.
    /// </summary>
    public static bool LooksLikeReference(string text) =>
        text.StartsWith("hf://", StringComparison.OrdinalIgnoreCase)
        || (!File.Exists(text) && !Directory.Exists(text) && !Path.IsPathRooted(text) && !text.StartsWith('.') && TryParse(text, out _, out _));

    // Hub names: letters, digits, '-', '_', '.' (no leading '.' segments); a revision may be a %2F-escaped "refs/pr/1".
    [GeneratedRegex(@"^(?<org>[A-Za-z0-9][A-Za-z0-9_.\-]*)/(?<name>[A-Za-z0-9][A-Za-z0-9_.\-]*?)(?:@(?<rev>[A-Za-z0-9_.\-%]+))?(?::(?<quant>[A-Za-z0-9_]+)|/(?<file>[^:@]+))?$")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    internal static partial Regex CommitPattern();
}
