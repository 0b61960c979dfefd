using System.Text.RegularExpressions;

namespace Alpaca.Platform;

/// <summary>
/// <c>alpaca up --teacher NAME=URL[,model=M][,api=chat|completions][,key-file=F][,key-env=VAR]</c>: registers
/// a named teacher of the embedded generator (<c>Alpaca:Generator:Teachers:NAME</c>, docs/security.md), which
/// runs then name (<c>alpaca generate-data --gateway … --teacher NAME</c>). The user is the operator here, so the
/// teacher may be on loopback or a private address (a local llama.cpp or vLLM server is the usual case), and its
/// key comes from the file or variable named, never from a caller.
/// </summary>
public static partial class EmbeddedTeachers
{
    public const string OptionName = "--teacher";

    public const string Help = "Register a named teacher of the generator: NAME=URL[,model=M][,api=chat|completions][,key-file=F][,key-env=VAR] (repeatable); runs name it with --teacher NAME.";

    /// <summary>The generator settings for <paramref name="specs"/>; throws <see cref="ArgumentException"/> naming the bad part.</summary>
    public static Dictionary<string, string?> Settings(IEnumerable<string> specs)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var spec in specs)
        {
            var parts = spec.Split(',', StringSplitOptions.TrimEntries);
            var eq = parts[0].IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? parts[0][..eq] : "";
            if (!NamePattern().IsMatch(name))
            {
                throw new ArgumentException($"{OptionName} '{spec}': expected NAME=URL with a NAME of letters, digits, '-' or '_'.");
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"{OptionName}: teacher '{name}' is given twice.");
            }

            var url = parts[0][(eq + 1)..];
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"{OptionName} {name}: '{url}' is not an http(s) base URL (e.g. http://127.0.0.1:8000/v1).");
            }

            var prefix = $"Alpaca:Generator:Teachers:{name}:";
            settings[prefix + "BaseUrl"] = uri.ToString().TrimEnd('/');
            settings[prefix + "AllowPrivateAddresses"] = "true";
            foreach (var option in parts.Skip(1).Where(p => p.Length > 0))
            {
                var (key, value) = option.IndexOf('=', StringComparison.Ordinal) is > 0 and var i ? (option[..i], option[(i + 1)..]) : (option, "");
                switch (key)
                {
                    case "model" when value.Length > 0:
                        settings[prefix + "Model"] = value;
                        break;
                    case "api" when value is "chat" or "completions":
                        settings[prefix + "Api"] = value;
                        break;
                    case "key-file" when value.Length > 0:
                        if (!File.Exists(value))
                        {
                            throw new ArgumentException($"{OptionName} {name}: key file not found: {value}");
                        }

                        settings[prefix + "ApiKeyFile"] = Path.GetFullPath(value);
                        break;
                    case "key-env" when value.Length > 0:
                        settings[prefix + "ApiKeyEnv"] = value;
                        break;
                    default:
                        throw new ArgumentException($"{OptionName} {name}: '{option}' is not model=M, api=chat|completions, key-file=F or key-env=VAR.");
                }
            }
        }

        return settings;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();
}
