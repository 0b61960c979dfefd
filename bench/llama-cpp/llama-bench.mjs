#!/usr/bin/env node
// llama.cpp's speed on the same GGUF files as `alpaca bench`, measured the same way in the same sitting:
// the prebuilt llama.cpp inside node-llama-cpp (installed by scripts/setup-oracle.sh), no flash
// attention, fp16 KV cache, n_batch 512. pp N = one batch of N random tokens on an empty sequence;
// tg N = N single-token decode steps from an empty sequence; one warm-up run, then R repetitions;
// median ± sample stddev of tokens/s. As in llama-bench, the last token of a pp batch and every tg token
// get logits (node-llama-cpp then also takes the greedy argmax, ~10 µs). Each decode step also pays
// node-llama-cpp's JS/N-API round trip (tens of µs), which matters only for the tiny 15M model.
// The last column is tokens per CPU-second of this process (user + system, all threads: llama.cpp's
// workers run inside it), which a machine shared with other work disturbs far less than wall time.
//
//   node bench/llama-cpp/llama-bench.mjs -m FILE[,FILE] [-t 2] [-p 64,256] [-n 64,128] [-r 5]
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const entry = join(root, "tools", "llama-oracle", "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href).catch(() => {
    console.error("node-llama-cpp is not installed: run scripts/setup-oracle.sh");
    process.exit(1);
});

const args = { m: [], t: [2], p: [64, 256], n: [64, 128], r: 5 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i].replace(/^-+/, ""), argv[i + 1] ?? ""];
    const list = value.split(",").filter(s => s.length > 0);
    if (flag === "m" || flag === "model") args.m.push(...list);
    else if (flag === "t" || flag === "threads") args.t = list.map(Number);
    else if (flag === "p") args.p = list.map(Number);
    else if (flag === "n") args.n = list.map(Number);
    else if (flag === "r") args.r = Number(value);
    else { console.error(`unknown option ${argv[i]}`); process.exit(1); }
}

const median = v => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const stddev = v => { if (v.length < 2) return 0; const mu = v.reduce((a, b) => a + b) / v.length; return Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / (v.length - 1)); };
let seed = 42;
const random = n => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;

// Logits for the last token (and a greedy pick, which llama.cpp's sampler does in a few µs).
const next = { generateNext: { token: true, options: { temperature: 0 } } };
const withLastLogits = tokens => tokens.map((t, i) => (i === tokens.length - 1 ? [t, next] : t));

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
console.log(`# llama.cpp via node-llama-cpp (build ${llama.buildType}), no flash attention`);
console.log("| model | threads | test | t/s | ± | t/CPU-s |");
console.log("|---|---:|---|---:|---:|---:|");
for (const path of args.m) {
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    const vocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 32000;
    const name = path.split("/").pop().replace(/\.gguf$/, "");
    for (const threads of args.t) {
        const size = Math.max(...args.p, ...args.n, 8);
        const context = await model.createContext({ contextSize: size, batchSize: Math.min(512, size), threads, flashAttention: false });
        const sequence = context.getSequence();
        const report = (test, rates, cpu) => console.log(`| ${name} | ${threads} | ${test} | ${median(rates).toFixed(1)} | ${stddev(rates).toFixed(1)} | ${median(cpu).toFixed(1)} |`);
        const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
        for (const n of args.p) {
            const rates = [], cpu = [];
            for (let r = -1; r < args.r; r++) {
                await sequence.clearHistory();
                const tokens = Array.from({ length: n }, () => random(vocab));
                const cpu0 = cpuSeconds();
                const start = process.hrtime.bigint();
                await sequence.controlledEvaluate(withLastLogits(tokens));
                const seconds = Number(process.hrtime.bigint() - start) / 1e9;
                if (r >= 0) { rates.push(n / seconds); cpu.push(n / (cpuSeconds() - cpu0)); }
            }
            report(`pp${n}`, rates, cpu);
        }
        for (const n of args.n) {
            const rates = [], cpu = [];
            for (let r = -1; r < args.r; r++) {
                await sequence.clearHistory();
                const cpu0 = cpuSeconds();
                const start = process.hrtime.bigint();
                for (let i = 0; i < n; i++) {
                    await sequence.controlledEvaluate([[random(vocab), next]]);
                }
                const seconds = Number(process.hrtime.bigint() - start) / 1e9;
                if (r >= 0) { rates.push(n / seconds); cpu.push(n / (cpuSeconds() - cpu0)); }
            }
            report(`tg${n}`, rates, cpu);
        }
        await context.dispose();
    }
    await model.dispose();
}
await llama.dispose();
