using System.Globalization;

namespace Alpaca.Llm.Conversion;

/// <summary>What a conversion wrote: where, how many tensors and bytes, how long it took.</summary>
public sealed record ConversionReport(string Source, string Destination, string Direction, string Type, int Tensors, long OutputBytes, TimeSpan Elapsed)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Direction}: {Source} -> {Destination} ({Type}, {Tensors} tensors, {OutputBytes / (1024.0 * 1024.0):F1} MiB) in {Elapsed.TotalSeconds:F2} s");
}
