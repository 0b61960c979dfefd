using Alpaca.Generator.Parsing;
using Alpaca.Generator.Tests.Support;

namespace Alpaca.Generator.Tests.Parsing;

/// <summary>
/// The released alpaca_data.json is what the reference kept, so every one of its 52,002 instructions went
/// through the reference filters and passed: ours must pass them all too.
/// </summary>
public class ReleasedDataTests
{
    [Fact]
    public void Every_released_instruction_passes_the_reference_filters()
    {
        var failures = TestData.Alpaca
            .Select((r, i) => (i, r.Instruction, Reason: InstructionFilters.Check(r.Instruction)))
            .Where(f => f.Reason is not null)
            .Select(f => $"#{f.i} {f.Reason}: {f.Instruction}")
            .ToList();

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }
}
