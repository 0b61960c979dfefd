using Alpaca.ServiceDefaults.Confinement;

namespace Alpaca.Gateway.WebConsole;

/// <summary>
/// The evaluation reports under <see cref="ConsoleOptions.ReportsDir"/>: the HTML files there (a report folder per
/// evaluation, <c>alpaca eval --out</c>), newest first, and each file by its path relative to the folder. Paths are
/// confined to the folder (<see cref="PathRoots"/>: <c>..</c>, absolute paths and links leading out are refused).
/// </summary>
internal sealed class ConsoleReports(ConsoleOptions options)
{
    private const int MaxDepth = 4;
    private const int MaxListed = 500;

    private readonly PathRoots? _root = string.IsNullOrWhiteSpace(options.ReportsDir) ? null : new PathRoots(ConsoleOptions.Section + ":ReportsDir", [options.ReportsDir]);

    public IResult List()
    {
        if (_root is null)
        {
            return Results.Json(new { configured = false, reports = Array.Empty<object>() });
        }

        var folder = new DirectoryInfo(_root.Roots[0]);
        var files = folder.Exists
            ? folder.EnumerateFiles("*.html", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = MaxDepth, IgnoreInaccessible = true })
                .OrderByDescending(f => f.LastWriteTimeUtc)
                .Take(MaxListed)
                .Select(f => new
                {
                    path = Path.GetRelativePath(folder.FullName, f.FullName).Replace(Path.DirectorySeparatorChar, '/'),
                    size = f.Length,
                    modified = f.LastWriteTimeUtc,
                })
                .ToList()
            : [];
        return Results.Json(new { configured = true, reports = files });
    }

    public IResult Open(HttpContext http, string path)
    {
        if (_root is null)
        {
            return Results.NotFound();
        }

        string full;
        try
        {
            full = _root.Resolve(path, "path");
        }
        catch (PathConfinementException e)
        {
            return Results.Json(new { error = new { code = "INVALID_ARGUMENT", message = e.Message } }, statusCode: StatusCodes.Status400BadRequest);
        }

        if (!full.EndsWith(".html", StringComparison.OrdinalIgnoreCase) || !File.Exists(full))
        {
            return Results.NotFound();
        }

        // A report is a whole page of someone's making: opened directly it runs sandboxed (an opaque origin).
        http.Response.Headers.ContentSecurityPolicy = "sandbox allow-scripts";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.File(full, "text/html; charset=utf-8");
    }
}
