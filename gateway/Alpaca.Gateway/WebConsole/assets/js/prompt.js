// The Alpaca prompt, exactly as libs/Alpaca.Llm/Prompts/AlpacaPrompt.cs (stanford_alpaca train.py's PROMPT_DICT,
// filled as str.format_map fills it: one pass, the values never re-read as templates). An empty input means no
// input, as train.py's `example.get("input", "") != ""`; an input of spaces is still an input.
export const PromptInput =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:';

export const PromptNoInput =
  'Below is an instruction that describes a task. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:';

export function alpacaPrompt(instruction, input = '') {
  const template = input === '' ? PromptNoInput : PromptInput;
  const values = { instruction, input };
  return template.replace(/\{(instruction|input)\}/g, (_, name) => values[name]);
}
