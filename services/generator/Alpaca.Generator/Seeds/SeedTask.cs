namespace Alpaca.Generator.Seeds;

/// <summary>One human-written seed task as Alpaca uses it: the instruction and its first instance.</summary>
/// <param name="Id">The seed's id (e.g. <c>seed_task_0</c>); informational.</param>
/// <param name="Instruction">Instruction text, raw (the prompt encoder normalises it).</param>
/// <param name="Input">Input of the first instance; empty means no input.</param>
/// <param name="Output">Output of the first instance.</param>
public sealed record SeedTask(string Id, string Instruction, string Input, string Output);
