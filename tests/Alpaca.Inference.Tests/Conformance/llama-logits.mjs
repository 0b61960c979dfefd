#!/usr/bin/env node
// The engine's conformance oracle: llama.cpp (the prebuilt build inside node-llama-cpp, installed by
// scripts/setup-oracle.sh into tools/llama-oracle/node_modules) evaluates token ids and prints the full
// logit rows and a greedy continuation as JSON. Unlike tools/llama-oracle/oracle.mjs it lets the caller
// choose flash attention: node-llama-cpp's default ("auto") turns it on for the CPU, and its fp16
// accumulation of V is a different rounding than llama.cpp's default (llama-bench, -fa 0) attention.
//
//   node llama-logits.mjs < {"model": FILE, "tokens": [..], "greedy": N, "flashAttention": false}
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const entry = join(root, "tools", "llama-oracle", "node_modules", "node-llama-cpp", "dist", "index.js");
const fail = message => { process.stdout.write(JSON.stringify({ error: message }) + "\n"); process.exit(1); };
process.on("uncaughtException", e => fail(`llama-logits failed: ${e?.stack ?? e}`));

const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href).catch(() =>
    fail("node-llama-cpp is not installed: run scripts/setup-oracle.sh"));

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const tokens = request.tokens.map(Number);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: request.model, gpuLayers: 0 });
const vocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 0;
const context = await model.createContext({
    contextSize: request.contextSize ?? 256,
    batchSize: request.contextSize ?? 256,
    threads: request.threads ?? 1,
    flashAttention: request.flashAttention === true,
});
const sequence = context.getSequence();
const dense = map => { const out = new Array(vocab).fill(null); for (const [id, v] of map) out[id] = v; return out; };
const next = { generateNext: { token: true, logits: true, options: { temperature: 0 } } };

// All positions' logits for the prompt, evaluated in one batch.
const results = await sequence.controlledEvaluate(tokens.map(t => [t, next]));
const logits = results.map(r => dense(r.next.logits));

// Greedy continuation (argmax, ties → lowest id), each step's logits kept.
const greedy = [];
const greedyLogits = [];
let last = results[results.length - 1].next;
for (let step = 0; step < (request.greedy ?? 0); step++) {
    greedy.push(last.token);
    greedyLogits.push(dense(last.logits));
    if (step + 1 < request.greedy) {
        last = (await sequence.controlledEvaluate([[last.token, next]]))[0].next;
    }
}

process.stdout.write(JSON.stringify({ logits, greedy, greedyLogits, flashAttention: context.flashAttention ?? null }) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
