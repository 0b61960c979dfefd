using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Deployment;

/// <summary>
/// <c>deploy/images.txt</c>, the list scripts/images.sh builds from (docs/deployment.md): one tag, one
/// registry, and per image its repository name, base and project.
/// </summary>
public sealed record ImageList(string Tag, string Registry, IReadOnlyList<ImageList.Entry> Images)
{
    public static readonly string Path = System.IO.Path.Combine(RepoPaths.Root, "deploy", "images.txt");

    /// <summary>One image; <see cref="Cuda"/> for a cuda-image line (tag suffix -cuda, built only by images.sh --cuda).</summary>
    public sealed record Entry(string Name, string Base, string Project, bool Cuda = false);

    /// <summary>The image reference a manifest names for this entry.</summary>
    public string Reference(Entry e) => $"{Registry}/{e.Name}:{Tag}{(e.Cuda ? "-cuda" : "")}";

    public static ImageList Load()
    {
        string? tag = null, registry = null;
        var images = new List<Entry>();
        foreach (var (raw, number) in File.ReadAllLines(Path).Select((l, i) => (l, i + 1)))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (fields[0])
            {
                case "tag" when fields.Length == 2: tag = fields[1]; break;
                case "registry" when fields.Length == 2: registry = fields[1]; break;
                case "image" when fields.Length == 4: images.Add(new Entry(fields[1], fields[2], fields[3])); break;
                case "cuda-image" when fields.Length == 4: images.Add(new Entry(fields[1], fields[2], fields[3], Cuda: true)); break;
                default: throw new FormatException($"{Path}:{number}: expected 'tag T', 'registry R', 'image NAME BASE PROJECT' or 'cuda-image NAME BASE PROJECT', got '{line}'");
            }
        }

        return new ImageList(
            tag ?? throw new FormatException($"{Path} has no 'tag' line"),
            registry ?? throw new FormatException($"{Path} has no 'registry' line"),
            images);
    }
}
