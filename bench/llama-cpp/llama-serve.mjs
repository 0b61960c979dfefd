#!/usr/bin/env node
// A stand-in for llama.cpp's llama-server (not available on this machine) for the serving benchmark
// (bench/serving.sh): an OpenAI-compatible streaming POST /v1/completions served by the prebuilt llama.cpp
// inside node-llama-cpp (scripts/setup-oracle.sh), so that the same client (`alpaca loadtest --openai`)
// drives it and our inference service with the same workload.
//
// Like `llama-server -np N -c CTX -b BATCH -t THREADS --cont-batching`: one llama_context with N parallel
// sequences (slots) whose pending tokens node-llama-cpp's batching gathers into one llama_decode per cycle
// (prompt tokens of new requests and the next token of every running one together, up to BATCH tokens);
// requests beyond N wait for a free slot. As llama-server's `cache_prompt` (on by default), a slot keeps
// the KV of its last request and a new request on it re-evaluates only from the first token where its prompt
// differs (the Alpaca template's shared preamble is then not prefilled again). No flash attention, fp16 KV.
// Sampling: greedy when temperature is 0 (the benchmark's setting), else temperature/top_p.
// `ignore_eos` (as llama-server) generates exactly max_tokens. `logprobs` gives each chunk its token.
//
//   node bench/llama-cpp/llama-serve.mjs -m FILE [--port 8090] [-t 2] [-np 16] [-c 1024] [-b 512]
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const entry = join(root, "tools", "llama-oracle", "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href).catch(() => {
    console.error("node-llama-cpp is not installed: run scripts/setup-oracle.sh");
    process.exit(1);
});

const args = { m: "", port: 8090, t: 2, np: 16, c: 1024, b: 512 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i].replace(/^-+/, "");
    if (!(flag in args)) { console.error(`unknown option ${argv[i]}`); process.exit(2); }
    args[flag] = flag === "m" ? argv[i + 1] : Number(argv[i + 1]);
}
if (!args.m) { console.error("-m FILE is required"); process.exit(2); }

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: args.m, gpuLayers: 0 });
// contextSize is per sequence in node-llama-cpp (n_ctx = contextSize × sequences), like llama-server's
// -c CTX×N split over N slots.
const context = await model.createContext({
    sequences: args.np, contextSize: args.c, batchSize: args.b, threads: args.t, flashAttention: false,
});
const free = Array.from({ length: args.np }, () => context.getSequence());
const waiting = [];
const acquire = () => free.length > 0 ? Promise.resolve(free.pop()) : new Promise(resolve => waiting.push(resolve));
const release = sequence => { const next = waiting.shift(); if (next) next(sequence); else free.push(sequence); };
const bos = model.tokens.bos;

/** Reuses the slot's cached prefix (cache_prompt): erases its KV from the first differing token. */
async function reusePrefix(sequence, prompt) {
    const cached = sequence.contextTokens;
    let common = 0;
    while (common < cached.length && common < prompt.length && cached[common] === prompt[common]) common++;
    if (common === prompt.length) common--; // the last prompt token is evaluated again for its logits
    if (common < sequence.nextTokenIndex) {
        await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
    }
    return prompt.slice(common);
}

async function complete(body, res) {
    const prompt = model.tokenize(String(body.prompt ?? ""));
    if (bos != null && prompt[0] !== bos) prompt.unshift(bos);
    const maxTokens = Number(body.max_tokens ?? 16);
    const temperature = Number(body.temperature ?? 1);
    const id = `cmpl-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const chunk = (choices, usage) => `data: ${JSON.stringify({ id, object: "text_completion", model: "llama.cpp", choices, ...(usage ? { usage } : {}) })}\n\n`;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const sequence = await acquire();
    let generated = 0;
    try {
        const rest = await reusePrefix(sequence, prompt);
        const options = temperature === 0 ? { temperature: 0 } : { temperature, topP: Number(body.top_p ?? 1) };
        // logprobs (0 alternatives, as the benchmark client asks): the chosen token's probability, which
        // llama.cpp computes in C++ (node-llama-cpp's `confidence`), like llama-server's n_probs.
        const logprobs = body.logprobs != null && body.logprobs !== false;
        for await (const out of sequence.evaluateWithMetadata(rest, { confidence: logprobs }, options)) {
            const eog = model.isEogToken(out.token);
            if (eog && !body.ignore_eos) break;
            generated++;
            const text = eog ? "" : model.detokenize([out.token]);
            const lp = logprobs ? { tokens: [text], token_logprobs: [Math.log(out.confidence)], top_logprobs: null, text_offset: [0] } : null;
            res.write(chunk([{ index: 0, text, logprobs: lp, finish_reason: null }]));
            if (generated >= maxTokens || res.destroyed) break;
        }
    } finally {
        release(sequence);
    }
    res.write(chunk([{ index: 0, text: "", finish_reason: "length" }]));
    if (body.stream_options?.include_usage) {
        res.write(chunk([], { prompt_tokens: prompt.length, completion_tokens: generated, total_tokens: prompt.length + generated }));
    }
    res.end("data: [DONE]\n\n");
}

const server = http.createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/completions") {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"only POST /v1/completions"}}');
        return;
    }
    let text = "";
    req.on("data", d => { text += d; });
    req.on("end", () => {
        let body;
        try { body = JSON.parse(text); } catch { res.writeHead(400).end('{"error":{"message":"bad JSON"}}'); return; }
        complete(body, res).catch(err => { console.error(err); res.destroy(err); });
    });
});
server.listen(args.port, "127.0.0.1", () => {
    console.log(`llama-serve: http://127.0.0.1:${server.address().port} ${args.m} threads ${args.t} slots ${args.np} ctx ${args.c}/slot batch ${args.b}`);
});
