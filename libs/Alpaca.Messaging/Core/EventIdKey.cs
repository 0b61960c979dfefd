using System.Security.Cryptography;
using System.Text;

namespace Alpaca.Messaging;

/// <summary>
/// Turns an event id (which comes from outside) into one state-key segment, injectively: two different
/// ids never share a key, so one event is never skipped as a duplicate of another. Letters, digits and
/// <c>. - :</c> stay as they are; every other UTF-8 byte, and <c>_</c> itself, becomes <c>_XX</c> (upper-case
/// hex), so <c>a_b/c</c> is <c>a_5Fb_2Fc</c> and <c>a/b_c</c> is <c>a_2Fb_5Fc</c>. An id made only of dots (not a
/// valid segment) has its dots escaped too. A segment longer than <see cref="MaxLength"/> becomes
/// <c>_h</c> + SHA-256 hex of the id: <c>_h</c> can never start an escape, so hashed and escaped keys
/// cannot meet (and two hashed ids meet only on a SHA-256 collision).
/// </summary>
public static class EventIdKey
{
    public const int MaxLength = 200;

    public static string Encode(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var onlyDots = id.Length > 0 && id.All(c => c == '.');
        var builder = new StringBuilder(id.Length);
        foreach (var b in Encoding.UTF8.GetBytes(id))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || c is '-' or ':' || (c == '.' && !onlyDots)))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('_').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.Length is > 0 and <= MaxLength
            ? builder.ToString()
            : "_h" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
    }
}
