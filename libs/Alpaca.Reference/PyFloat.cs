using System.Globalization;

namespace Alpaca.Reference;

/// <summary>Python's <c>repr(float)</c> (also <c>str(float)</c>, and what <c>json</c> writes for a finite float).</summary>
public static class PyFloat
{
    /// <summary>
    /// The shortest digits that round-trip (the digits .NET's "R" gives, laid out anew), written fixed when
    /// the decimal exponent is in [-4, 16) and as <c>d.ddde±XX</c> otherwise (Python's <c>float_repr_style</c>
    /// "short", <c>format_float_short</c> with mode 'r'); an integral fixed value gets ".0"; <c>nan</c>, <c>inf</c>, <c>-inf</c>.
    /// </summary>
    public static string Repr(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }

        // .NET's own layout switches to an exponent at 1e15, Python's at 1e16: take only the digits from it.
        var (digits, decpt) = Decompose(d.ToString("R", CultureInfo.InvariantCulture));
        var sign = d < 0 ? "-" : "";
        if (decpt is > -4 and <= 16)
        {
            if (decpt <= 0)
            {
                return sign + "0." + new string('0', -decpt) + digits;
            }

            if (decpt < digits.Length)
            {
                return sign + digits[..decpt] + "." + digits[decpt..];
            }

            return sign + digits + new string('0', decpt - digits.Length) + ".0";
        }

        var exponent = decpt - 1;
        var mantissa = digits.Length == 1 ? digits : digits[..1] + "." + digits[1..];
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>Significant digits (no leading/trailing zeros) and decimal point position: |value| = 0.DIGITS × 10^decpt.</summary>
    private static (string Digits, int Decpt) Decompose(string roundTrip)
    {
        var s = roundTrip.TrimStart('-');
        var exponent = 0;
        var e = s.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..e];
        }

        var dot = s.IndexOf('.');
        var intPart = dot >= 0 ? s[..dot] : s;
        var fracPart = dot >= 0 ? s[(dot + 1)..] : "";
        var all = intPart + fracPart;
        var decpt = intPart.Length + exponent;
        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        all = all[leading..];
        decpt -= leading;
        return (all.TrimEnd('0') is { Length: > 0 } trimmed ? trimmed : "0", decpt);
    }
}
