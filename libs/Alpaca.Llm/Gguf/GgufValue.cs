using System.Globalization;

namespace Alpaca.Llm.Gguf;

/// <summary>
/// One typed GGUF metadata value. Scalars keep their exact GGUF type; arrays are held as typed .NET
/// arrays (<c>byte[]</c>, <c>int[]</c>, <c>float[]</c>, <c>string[]</c>, <c>bool[]</c>, …; nested arrays
/// as <c>GgufValue[]</c>). The <c>As…</c> accessors demand the exact type; the <c>To…</c> ones convert
/// any integer (or float) type, which is what readers of llama metadata want.
/// </summary>
public sealed class GgufValue
{
    private readonly object _value;

    private GgufValue(GgufValueType type, object value, GgufValueType? elementType = null)
    {
        Type = type;
        _value = value;
        ElementType = elementType;
    }

    public GgufValueType Type { get; }

    /// <summary>For arrays: the element type tag; null for scalars.</summary>
    public GgufValueType? ElementType { get; }

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>The boxed .NET value: a scalar, a string, or a typed array.</summary>
    public object RawValue => _value;

    public static GgufValue UInt8(byte v) => new(GgufValueType.UInt8, v);
    public static GgufValue Int8(sbyte v) => new(GgufValueType.Int8, v);
    public static GgufValue UInt16(ushort v) => new(GgufValueType.UInt16, v);
    public static GgufValue Int16(short v) => new(GgufValueType.Int16, v);
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue String(string v) => new(GgufValueType.String, v ?? throw new ArgumentNullException(nameof(v)));
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, v);
    public static GgufValue Int64(long v) => new(GgufValueType.Int64, v);
    public static GgufValue Float64(double v) => new(GgufValueType.Float64, v);

    public static GgufValue Array(byte[] v) => new(GgufValueType.Array, v, GgufValueType.UInt8);
    public static GgufValue Array(sbyte[] v) => new(GgufValueType.Array, v, GgufValueType.Int8);
    public static GgufValue Array(ushort[] v) => new(GgufValueType.Array, v, GgufValueType.UInt16);
    public static GgufValue Array(short[] v) => new(GgufValueType.Array, v, GgufValueType.Int16);
    public static GgufValue Array(uint[] v) => new(GgufValueType.Array, v, GgufValueType.UInt32);
    public static GgufValue Array(int[] v) => new(GgufValueType.Array, v, GgufValueType.Int32);
    public static GgufValue Array(float[] v) => new(GgufValueType.Array, v, GgufValueType.Float32);
    public static GgufValue Array(bool[] v) => new(GgufValueType.Array, v, GgufValueType.Bool);
    public static GgufValue Array(string[] v) => new(GgufValueType.Array, v, GgufValueType.String);
    public static GgufValue Array(ulong[] v) => new(GgufValueType.Array, v, GgufValueType.UInt64);
    public static GgufValue Array(long[] v) => new(GgufValueType.Array, v, GgufValueType.Int64);
    public static GgufValue Array(double[] v) => new(GgufValueType.Array, v, GgufValueType.Float64);

    /// <summary>An array of arrays (allowed by GGUF, unused by llama models). Every element must be an array.</summary>
    public static GgufValue Array(GgufValue[] v)
    {
        foreach (var e in v)
        {
            if (!e.IsArray)
            {
                throw new ArgumentException("Elements of a nested GGUF array must themselves be arrays.", nameof(v));
            }
        }

        return new(GgufValueType.Array, v, GgufValueType.Array);
    }

    public byte AsUInt8() => Get<byte>(GgufValueType.UInt8);
    public sbyte AsInt8() => Get<sbyte>(GgufValueType.Int8);
    public ushort AsUInt16() => Get<ushort>(GgufValueType.UInt16);
    public short AsInt16() => Get<short>(GgufValueType.Int16);
    public uint AsUInt32() => Get<uint>(GgufValueType.UInt32);
    public int AsInt32() => Get<int>(GgufValueType.Int32);
    public float AsFloat32() => Get<float>(GgufValueType.Float32);
    public bool AsBool() => Get<bool>(GgufValueType.Bool);
    public string AsString() => Get<string>(GgufValueType.String);
    public ulong AsUInt64() => Get<ulong>(GgufValueType.UInt64);
    public long AsInt64() => Get<long>(GgufValueType.Int64);
    public double AsFloat64() => Get<double>(GgufValueType.Float64);

    /// <summary>The array elements as <typeparamref name="T"/>[]; T must match the element type (GgufValue for nested arrays).</summary>
    public T[] AsArray<T>()
    {
        if (!IsArray)
        {
            throw new InvalidCastException($"GGUF value is {Type}, not an array.");
        }

        return _value as T[]
            ?? throw new InvalidCastException($"GGUF array holds {ElementType}, not {typeof(T).Name}.");
    }

    /// <summary>Element count of an array value.</summary>
    public int ArrayLength => IsArray ? ((System.Array)_value).Length : throw new InvalidCastException($"GGUF value is {Type}, not an array.");

    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
        or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>Any integer type as a long (u64 above long.MaxValue throws).</summary>
    public long ToInt64() => Type switch
    {
        GgufValueType.UInt8 => (byte)_value,
        GgufValueType.Int8 => (sbyte)_value,
        GgufValueType.UInt16 => (ushort)_value,
        GgufValueType.Int16 => (short)_value,
        GgufValueType.UInt32 => (uint)_value,
        GgufValueType.Int32 => (int)_value,
        GgufValueType.UInt64 => checked((long)(ulong)_value),
        GgufValueType.Int64 => (long)_value,
        _ => throw new InvalidCastException($"GGUF value is {Type}, not an integer."),
    };

    /// <summary>Any numeric type as a double.</summary>
    public double ToDouble() => Type switch
    {
        GgufValueType.Float32 => (float)_value,
        GgufValueType.Float64 => (double)_value,
        GgufValueType.UInt64 => (ulong)_value,
        _ when IsInteger => ToInt64(),
        _ => throw new InvalidCastException($"GGUF value is {Type}, not a number."),
    };

    private T Get<T>(GgufValueType expected) =>
        Type == expected ? (T)_value : throw new InvalidCastException($"GGUF value is {Type}, not {expected}.");

    public override string ToString() => Type switch
    {
        GgufValueType.String => (string)_value,
        GgufValueType.Array => $"{ElementType}[{ArrayLength}]",
        GgufValueType.Float32 => ((float)_value).ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Float64 => ((double)_value).ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(_value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Deep structural equality: same type tags and same values (arrays element-wise; floats bitwise).</summary>
    public bool ValueEquals(GgufValue other)
    {
        if (Type != other.Type || ElementType != other.ElementType)
        {
            return false;
        }

        return (_value, other._value) switch
        {
            (GgufValue[] a, GgufValue[] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.ValueEquals(p.Second)),
            (float[] a, float[] b) => a.AsSpan().SequenceEqual(b) || a.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Select(BitConverter.SingleToInt32Bits)),
            (double[] a, double[] b) => a.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(b.Select(BitConverter.DoubleToInt64Bits)),
            (float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b),
            (double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b),
            (System.Array a, System.Array b) => a.Length == b.Length && a.Cast<object>().SequenceEqual(b.Cast<object>()),
            _ => Equals(_value, other._value),
        };
    }
}
