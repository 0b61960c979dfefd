using System.Text.RegularExpressions;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Repository;

/// <summary>
/// `scripts/test.sh` runs `dotnet test Alpaca.sln`, so a project left out of the solution is neither
/// built with warnings as errors nor tested in CI (the torch-backend tests once were, unnoticed).
/// </summary>
public sealed partial class SolutionTests
{
    [Fact]
    public void Every_project_in_the_repository_is_in_the_solution()
    {
        var inSolution = ProjectLine().Matches(File.ReadAllText(Path.Combine(RepoPaths.Root, "Alpaca.sln")))
            .Select(m => Normalize(m.Groups["path"].Value))
            .ToHashSet(StringComparer.Ordinal);

        var onDisk = Directory.EnumerateFiles(RepoPaths.Root, "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(RepoPaths.Root, p).Replace('\\', '/'))
            .Where(p => !p.Split('/').Any(part => part is "bin" or "obj" or "node_modules" or "artifacts" || part.StartsWith('.')))
            .ToList();

        Assert.NotEmpty(onDisk);
        var missing = onDisk.Where(p => !inSolution.Contains(p)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "not in Alpaca.sln (dotnet sln add them): " + string.Join(", ", missing));
    }

    private static string Normalize(string slnPath) => slnPath.Replace('\\', '/');

    [GeneratedRegex("""^Project\("\{[^}]+\}"\) = "[^"]+", "(?<path>[^"]+\.csproj)", """, RegexOptions.Multiline)]
    private static partial Regex ProjectLine();
}
