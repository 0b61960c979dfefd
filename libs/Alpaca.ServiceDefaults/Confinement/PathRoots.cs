using Microsoft.Extensions.Configuration;

namespace Alpaca.ServiceDefaults.Confinement;

/// <summary>
/// Folders a caller-named path must stay inside (model roots, data roots, the trainer's work root). A path is
/// resolved before it is checked — made absolute, every existing component's symlink followed to its final
/// target — so <c>..</c>, an absolute path elsewhere and a link that leads out are all caught the same way.
/// The check runs before anything looks at the file, and its refusal never says whether a file exists
/// outside the roots (nor where a link pointed), so it cannot be used to probe the server's file system.
/// A file swapped for a link between this check and the open is not covered; the roots are the operator's
/// folders, so only the operator can do that.
/// </summary>
public sealed class PathRoots
{
    // Linux caps a path's symlink chain at 40 (ELOOP); more is a loop or an attack.
    private const int MaxLinks = 40;

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string _setting;

    /// <summary>
    /// <paramref name="setting"/> is the configuration key that sets the roots (named in refusals, so an operator
    /// knows what to change); the roots themselves are resolved once, here.
    /// </summary>
    public PathRoots(string setting, IEnumerable<string?> roots)
    {
        _setting = setting;
        Roots = roots.Where(r => !string.IsNullOrWhiteSpace(r))
            .Select(r => ResolveLinks(Path.TrimEndingDirectorySeparator(Path.GetFullPath(r!))))
            .Distinct(StringComparer.FromComparison(PathComparison))
            .ToList();
    }

    /// <summary>The resolved root folders (server paths: never shown to callers).</summary>
    public IReadOnlyList<string> Roots { get; }

    /// <summary>
    /// The roots under <paramref name="key"/>: its children (<c>Key:0</c>, <c>Key:1</c> …, or
    /// <c>Key__0</c> in the environment) or one value holding a list separated by the platform's path separator
    /// (<c>/models:/mnt/models</c>, like PATH); <paramref name="defaults"/> when the key is not set.
    /// </summary>
    public static PathRoots FromConfiguration(IConfiguration configuration, string key, IEnumerable<string?> defaults)
    {
        var section = configuration.GetSection(key);
        var listed = section.GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
        if (listed.Count == 0 && !string.IsNullOrWhiteSpace(section.Value))
        {
            listed = [.. section.Value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        return new PathRoots(key, listed.Count > 0 ? listed : defaults);
    }

    /// <summary>
    /// The resolved, absolute path of <paramref name="path"/> (a caller's request field called
    /// <paramref name="field"/>); a relative path is taken under the first root. Throws
    /// <see cref="PathConfinementException"/>: malformed (empty, a NUL, a <c>..</c> segment) or outside every root.
    /// </summary>
    public string Resolve(string? path, string field)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw PathConfinementException.Malformed($"{field} is empty.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw PathConfinementException.Malformed($"{field} contains a NUL character.");
        }

        // '..' is refused outright rather than resolved: a caller names files under a root, never above one.
        if (path.Split('/', '\\').Any(segment => segment == ".."))
        {
            throw PathConfinementException.Malformed($"{field} contains a '..' segment; name a path under the configured roots ({_setting}).");
        }

        if (Roots.Count == 0)
        {
            throw PathConfinementException.Outside($"{field} cannot be used: no roots are configured ({_setting}).");
        }

        var full = Path.IsPathRooted(path) ? Path.GetFullPath(path) : Path.GetFullPath(Path.Combine(Roots[0], path));
        var resolved = ResolveLinks(full);
        if (!Roots.Any(root => IsUnder(resolved, root)))
        {
            // Neither the resolved path nor the link target: that would tell the caller what is on the server.
            throw PathConfinementException.Outside($"{field} is outside the configured roots ({_setting}).");
        }

        return resolved;
    }

    /// <summary>True when <paramref name="path"/> (resolved) is a root or lies under one.</summary>
    public bool Contains(string path) => Roots.Any(root => IsUnder(ResolveLinks(Path.GetFullPath(path)), root));

    private static bool IsUnder(string path, string root) =>
        path.Equals(root, PathComparison)
        || (path.StartsWith(root, PathComparison) && (root.EndsWith(Path.DirectorySeparatorChar) || path[root.Length] == Path.DirectorySeparatorChar));

    /// <summary>
    /// <paramref name="full"/> with every existing component that is a symlink replaced by its final target,
    /// component by component from the top, so a link anywhere in the path (a folder or the file) is followed.
    /// Components that do not exist are kept as written.
    /// </summary>
    public static string ResolveLinks(string full)
    {
        var links = 0;
        var current = Path.GetPathRoot(full) ?? "";
        var pending = new Queue<string>(full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries));
        while (pending.Count > 0)
        {
            var next = Path.Combine(current, pending.Dequeue());
            var info = new FileInfo(next);
            if (info.LinkTarget is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw PathConfinementException.Malformed("the path has too many symbolic links (a loop?).");
            }

            // The link's target may itself run through links: start again from its own top, then the rest.
            var target = Path.GetFullPath(info.LinkTarget, current);
            var rest = pending.ToArray();
            current = Path.GetPathRoot(target) ?? "";
            pending = new Queue<string>(target[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Concat(rest));
        }

        return Path.GetFullPath(current);
    }
}
