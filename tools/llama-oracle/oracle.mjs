#!/usr/bin/env node
// The llama.cpp oracle: runs a GGUF model through node-llama-cpp's prebuilt llama.cpp (CPU, offline) and
// answers one JSON request with token ids, detokenized text, logits and a greedy continuation.
//
//   node tools/llama-oracle/oracle.mjs [--model FILE.gguf] [--request FILE.json] < request.json > response.json
//   node tools/llama-oracle/oracle.mjs --check      (loads the prebuilt binding only)
//
// The request format and the meaning of every field are documented in docs/tokenizers.md
// ("The llama.cpp oracle"). Errors print {"error": "..."} and exit with status 1.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

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

function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--model") args.model = argv[++i];
        else if (argv[i] === "--request") args.request = argv[++i];
        else if (argv[i] === "--check") args.check = true;
        else fail(`unknown argument '${argv[i]}' (expected --model FILE and/or --request FILE, request JSON on stdin otherwise)`);
    }
    return args;
}

process.on("uncaughtException", e => fail(`oracle failed: ${e?.stack ?? e}`));
process.on("unhandledRejection", e => fail(`oracle failed: ${e?.stack ?? e}`));

const args = parseArgs(process.argv.slice(2));
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "node_modules", "node-llama-cpp");
const readJson = path => JSON.parse(readFileSync(join(packageDir, path), "utf8"));
const engine = {
    nodeLlamaCpp: readJson("package.json").version,
    llamaCpp: readJson("llama/llama.cpp.info.json").tag,
};

if (args.check) {
    // --check: load the prebuilt binding (as the tests will) and report, without a model.
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
    process.stdout.write(JSON.stringify({ engine, binding: llama.buildType, gpu: llama.gpu }) + "\n");
    await llama.dispose();
    process.exit(0);
}

let request;
try {
    request = JSON.parse(args.request ? readFileSync(args.request, "utf8") : await readStdin());
} catch (e) {
    fail(`request is not valid JSON: ${e.message}`);
}
const modelPath = args.model ?? request.model;
if (!modelPath) fail("no model: pass --model FILE.gguf or put \"model\" in the request");

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
let model;
try {
    model = await llama.loadModel({ modelPath, gpuLayers: 0 });
} catch (e) {
    fail(`llama.cpp could not load ${modelPath}: ${e.message}`);
}

const meta = model.fileInfo.metadata;
const tokenizerMeta = meta?.tokenizer?.ggml ?? {};
const vocabSize = (tokenizerMeta.tokens ?? []).length;
const addBos = model.tokens.shouldPrependBosToken === true;
const response = {
    engine,
    model: {
        path: modelPath,
        tokenizer: tokenizerMeta.model ?? null,
        vocabSize,
        bos: model.tokens.bos ?? null,
        eos: model.tokens.eos ?? null,
        addBos,
    },
};

// llama_tokenize(add_special = addBos, parse_special): node-llama-cpp tokenizes without BOS, so the
// oracle prepends it exactly as llama.cpp's add_special does (only when the model asks for BOS).
function tokenize(text, withBos, parseSpecial) {
    const ids = Array.from(model.tokenize(text, parseSpecial === true));
    return withBos && addBos && model.tokens.bos != null ? [model.tokens.bos, ...ids] : ids;
}

function promptTokens(spec, what) {
    if (Array.isArray(spec.tokens)) return spec.tokens.map(Number);
    if (typeof spec.prompt === "string") return tokenize(spec.prompt, spec.addBos !== false, spec.parseSpecial);
    fail(`${what} needs "prompt" (text) or "tokens" (ids)`);
}

if (request.tokenize) {
    const t = request.tokenize;
    if (!Array.isArray(t.texts)) fail("tokenize.texts must be an array of strings or {text, addBos, parseSpecial} objects");
    // Each entry is a string (using the block's addBos/parseSpecial) or an object overriding them.
    response.tokenize = t.texts.map(entry => typeof entry === "string"
        ? tokenize(entry, t.addBos === true, t.parseSpecial === true)
        : tokenize(String(entry.text), (entry.addBos ?? t.addBos) === true, (entry.parseSpecial ?? t.parseSpecial) === true));
}

if (request.detokenize) {
    const d = request.detokenize;
    if (!Array.isArray(d.ids)) fail("detokenize.ids must be an array of id arrays");
    response.detokenize = d.ids.map(ids => model.detokenize(ids.map(Number), d.special === true));
}

const needsContext = request.logits || request.greedy;
const context = needsContext
    ? await model.createContext({ contextSize: request.contextSize ?? 512, threads: request.threads ?? 1, batchSize: request.contextSize ?? 512 })
    : null;
const sequence = context?.getSequence();

// Dense logits of the vocabulary from node-llama-cpp's id → logit map.
function dense(map) {
    const out = new Array(vocabSize).fill(null);
    for (const [id, value] of map) out[id] = value;
    return out;
}

// Greedy sampling with temperature 0: llama.cpp's greedy sampler (argmax, ties → lowest id); it leaves
// the logits untouched, so they are the model's raw output.
const greedyNext = { generateNext: { token: true, logits: true, options: { temperature: 0 } } };

if (request.logits) {
    const l = request.logits;
    const tokens = promptTokens(l, "logits");
    if (tokens.length === 0) fail("logits: the prompt has no tokens");
    const all = l.positions === "all";
    await sequence.clearHistory();
    const results = await sequence.controlledEvaluate(tokens.map((token, i) =>
        all || i === tokens.length - 1 ? [token, greedyNext] : token));
    const positions = [];
    const logits = [];
    results.forEach((result, i) => {
        if (result?.next?.logits) {
            positions.push(i);
            logits.push(dense(result.next.logits));
        }
    });
    response.logits = { tokens, positions, logits };
}

if (request.greedy) {
    const g = request.greedy;
    const tokens = promptTokens(g, "greedy");
    const n = Number(g.n ?? 16);
    if (tokens.length === 0) fail("greedy: the prompt has no tokens");
    await sequence.clearHistory();
    const generated = [];
    const stepLogits = [];
    const keepLogits = g.logits === true;
    let input = tokens.map((token, i) => (i === tokens.length - 1 ? [token, greedyNext] : token));
    for (let step = 0; step < n; step++) {
        const results = await sequence.controlledEvaluate(input);
        const next = results[results.length - 1]?.next;
        if (next?.token == null) fail(`greedy: llama.cpp produced no token at step ${step}`);
        generated.push(next.token);
        if (keepLogits) stepLogits.push(dense(next.logits));
        if (g.stopAtEos !== false && next.token === model.tokens.eos) break;
        input = [[next.token, greedyNext]];
    }
    response.greedy = {
        promptTokens: tokens,
        tokens: generated,
        text: model.detokenize(generated, false),
        ...(keepLogits ? { logits: stepLogits } : {}),
    };
}

process.stdout.write(JSON.stringify(response) + "\n");
await context?.dispose();
await model.dispose();
await llama.dispose();
