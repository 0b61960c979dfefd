namespace Alpaca.Trainer.Data;

/// <summary>One instruction-following example (the fields of <c>alpaca_data.json</c>).</summary>
public sealed record AlpacaRecord(string Instruction, string Input, string Output);
