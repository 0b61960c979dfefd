using System.Globalization;
using Alpaca.Reference.Tests.Support;
using Alpaca.TestSupport;

namespace Alpaca.Reference.Tests;

/// <summary><c>repr(float)</c> and <c>json.dumps(float)</c> against Python's own, over the edges where layouts switch.</summary>
public sealed class PyFloatTests
{
    /// <summary>Every decade boundary with its neighbours (1e16 is where Python switches to an exponent, .NET already at 1e15), subnormals, specials, random doubles.</summary>
    private static List<double> Values()
    {
        var values = new List<double>
        {
            0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, double.Epsilon, -double.Epsilon,
            double.MaxValue, double.MinValue, 2.2250738585072014e-308, BitConverter.Int64BitsToDouble(0x000FFFFFFFFFFFFF),
            0.1 + 0.2, 1.0 / 3, 2.0 / 3, 0.7000000000000001, 0.5714285714285715, 123456789012345680.0,
            9007199254740992.0, 9007199254740993.0, 4503599627370496.0, 9999999999999998.0, 99999999999999990.0,
        };
        for (var e = -325; e <= 309; e++)
        {
            foreach (var mantissa in new[] { "1", "9.999999999999999", "5", "1.5", "2.5", "1.2345678901234567", "9.87654321" })
            {
                var d = double.Parse($"{mantissa}e{e}", CultureInfo.InvariantCulture);
                values.AddRange([d, -d, Math.BitIncrement(d), Math.BitDecrement(d)]);
            }
        }

        var random = new Random(11);
        for (var e = -7; e <= 22; e++)
        {
            // Dense in the decades named by the issue: 1e15 to 1e17 hold the switch from fixed to exponent.
            var count = e is >= 14 and <= 17 ? 4000 : 300;
            for (var k = 0; k < count; k++)
            {
                values.Add((1 + 9 * random.NextDouble()) * Math.Pow(10, e));
                var digits = random.Next(1, 18);
                values.Add(double.Parse($"{random.NextInt64(1, (long)Math.Pow(10, Math.Min(digits, 17)))}e{e - digits + 1}", CultureInfo.InvariantCulture));
            }
        }

        for (var k = -20; k <= 20; k++)
        {
            values.Add(1e16 + k * 2);
            values.Add(1e15 + k * 0.125);
            values.Add(1e17 + k * 16);
        }

        for (var k = 0; k < 20_000; k++)
        {
            values.Add(BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue))); // any double, NaN payloads included
            values.Add(BitConverter.Int64BitsToDouble(random.NextInt64(1, 0x0010000000000000))); // subnormal
        }

        return values;
    }

    [Fact]
    public void Repr_equals_pythons_repr()
    {
        var values = Values();
        var python = Python.Run("for h in lines: emit(repr(d_in(h)))", values.Select(Python.Hex));
        Mismatches.AssertNone(values, python, PyFloat.Repr, d => d.ToString("R", CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Json_floats_equal_pythons_json_dumps()
    {
        var values = Values();
        var python = Python.Run("for h in lines: emit(json.dumps(d_in(h)))", values.Select(Python.Hex));
        Mismatches.AssertNone(values, python, PyJson.Float, d => d.ToString("R", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1.5e15, "1500000000000000.0")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    public void The_layout_switches_where_pythons_does(double value, string repr) => Assert.Equal(repr, PyFloat.Repr(value));
}
