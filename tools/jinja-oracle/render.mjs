// Renders chat templates with @huggingface/jinja, the oracle for libs/Alpaca.Llm/Chat/Jinja.
// stdin: {"cases": [{"template": "...", "context": {...}}]}; stdout: {"results": [{"output": "..."} | {"error": "..."}]}.
// A fixed strftime_now is not needed: the oracle cases do not call it (its clock is the process's).
// `--check`: renders one template and exits 0, for scripts/setup-oracle.sh.
import { Template } from "@huggingface/jinja";

if (process.argv.includes("--check")) {
  const out = new Template("{{ bos_token }}{% for m in messages %}{{ m.content | trim }}{% endfor %}").render({ bos_token: "<s>", messages: [{ content: " ok " }] });
  if (out !== "<s>ok") {
    console.error(`jinja oracle check failed: ${JSON.stringify(out)}`);
    process.exit(1);
  }
  console.log("jinja oracle: @huggingface/jinja renders");
  process.exit(0);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = request.cases.map(({ template, context }) => {
  try {
    return { output: new Template(template).render(context) };
  } catch (e) {
    return { error: String(e?.message ?? e) };
  }
});
process.stdout.write(JSON.stringify({ results }));
