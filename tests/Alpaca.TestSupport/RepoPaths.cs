namespace Alpaca.TestSupport;

/// <summary>
/// Locates the repository and the shared data that sits beside it (<c>../shared</c>).
/// Tests read shared data by path and never copy it into the project.
/// </summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder that holds <c>Alpaca.sln</c>.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary><c>../shared/data</c>, or <c>ALPACA_SHARED_DATA</c> when set.</summary>
    public static string SharedData =>
        Environment.GetEnvironmentVariable("ALPACA_SHARED_DATA") is { Length: > 0 } dir
            ? dir
            : Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>The path of a file in the shared data folder; fails clearly when it is missing.</summary>
    public static string Data(string fileName)
    {
        var path = Path.Combine(SharedData, fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Shared data file '{fileName}' not found at {path}. Set ALPACA_SHARED_DATA to the folder that holds it.", path);
        }

        return path;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Alpaca.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Alpaca.sln not found above " + AppContext.BaseDirectory);
    }
}
