using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Alpaca.TestSupport;

/// <summary>
/// Runs a script in Debian's <c>/usr/bin/python3</c> (named explicitly: a pyenv <c>python3</c> without numpy
/// may come first on PATH) and returns its output lines: the oracle that tests of reference semantics compare against.
/// Values travel as ASCII hex so that no encoding setting can change them: doubles as their IEEE bits,
/// strings as UTF-16LE with lone surrogates kept (<c>surrogatepass</c>).
/// </summary>
public static class Python
{
    public const string Interpreter = "/usr/bin/python3";

    /// <summary>Helpers every script can use: <c>lines</c> (stdin), <c>emit</c>, and the hex codecs.</summary>
    private const string Prelude = """
        import sys, struct, json, re, math, unicodedata
        def s_in(h): return bytes.fromhex(h).decode('utf-16-le', 'surrogatepass')
        def s_out(s): return s.encode('utf-16-le', 'surrogatepass').hex()
        def d_in(h): return struct.unpack('>d', bytes.fromhex(h))[0]
        def d_out(x): return struct.pack('>d', x).hex()
        def f_in(h): return struct.unpack('>f', bytes.fromhex(h))[0]
        def f_out(x): return struct.pack('>f', x).hex()
        lines = sys.stdin.read().split('\n')[:-1]
        _out = []
        emit = _out.append

        """;

    /// <summary>Runs <paramref name="script"/> (after the prelude) with <paramref name="input"/> as stdin lines; returns what it emitted.</summary>
    public static string[] Run(string script, IEnumerable<string>? input = null)
    {
        if (!File.Exists(Interpreter))
        {
            throw new FileNotFoundException($"{Interpreter} is missing: run scripts/setup.sh (it installs Debian's python3 and python3-numpy).", Interpreter);
        }

        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-I"); // isolated: no PYTHON* variables, no user site-packages
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Prelude + script + "\nsys.stdout.write(''.join(x + '\\n' for x in _out))\n");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var text = new StringBuilder();
        foreach (var line in input ?? [])
        {
            text.Append(line).Append('\n');
        }

        process.StandardInput.Write(text.ToString());
        process.StandardInput.Close();
        if (!process.WaitForExit(300_000))
        {
            process.Kill();
            throw new TimeoutException("python3 did not finish in 300 s");
        }

        if (process.ExitCode != 0)
        {
            var hint = error.Result.Contains("No module named 'numpy'", StringComparison.Ordinal) ? " (run scripts/setup.sh: it installs python3-numpy)" : "";
            throw new InvalidOperationException($"python3 exited with {process.ExitCode}{hint}:\n{error.Result}");
        }

        return output.Result.Split('\n')[..^1];
    }

    /// <summary>A string as UTF-16LE hex, lone surrogates included (Encoding.Unicode would replace them).</summary>
    public static string Hex(string s) => Convert.ToHexStringLower(MemoryMarshal.AsBytes(s.AsSpan()));

    public static string FromHex(string hex) => new(MemoryMarshal.Cast<byte, char>(Convert.FromHexString(hex)));

    public static string Hex(double d) => BitConverter.DoubleToInt64Bits(d).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    public static string Hex(float f) => BitConverter.SingleToInt32Bits(f).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
}
