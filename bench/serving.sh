#!/usr/bin/env bash
# The serving benchmark against llama.cpp (issue 16, "Benchmarks"): the same client (`alpaca loadtest
# --openai`, streaming POST /v1/completions), the same GGUF file, the same workload, on this machine, one
# server after the other (never both at once): our inference host (Alpaca.Inference.Api, Kestrel on
# loopback) and llama.cpp via node-llama-cpp (bench/llama-cpp/llama-serve.mjs, the stand-in for llama-server:
# N slots, continuous batching, cache_prompt-style slot prefix reuse). Each server is measured with the
# Alpaca template (a shared preamble: our prefix cache / llama.cpp's slot reuse) and without (the
# instruction alone); every request's instruction is numbered, so prompts differ from their start.
#
#   bench/serving.sh [MODEL.gguf] [-t THREADS] [-c LEVELS] [-n TOKENS] [--duration S] [--min-requests N] [--rounds R] [--ctx POSITIONS] [--only alpaca|llama]
# Defaults: artifacts/models/stories110M-q8_0.gguf (written by `alpaca bench --make-model 110M:q8_0` when
# missing), 2 threads each, levels 1,8,16, 64 tokens per request, greedy, 12 s per level, ≥ 2 requests per
# client, 1 round, 16 slots of 1024 positions each (--ctx: positions per slot, both servers). Prints markdown tables, the ISA and the load average (the machine may be shared).
set -euo pipefail
cd "$(dirname "$0")/.."
model=artifacts/models/stories110M-q8_0.gguf threads=2 levels=1,8,16 tokens=64 duration=12 minreq=2 rounds=1 ctx=1024 slots=16 batch=512 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    -t) threads=$2; shift 2 ;;
    -c) levels=$2; shift 2 ;;
    -n) tokens=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --min-requests) minreq=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --ctx) ctx=$2; shift 2 ;;
    -*) echo "serving.sh: unknown option $1" >&2; exit 2 ;;
    *) model=$1; shift ;;
  esac
done
if [ ! -f "$model" ]; then
  [ "$model" = artifacts/models/stories110M-q8_0.gguf ] || { echo "serving.sh: $model does not exist" >&2; exit 2; }
  ./alpaca bench --make-model 110M:q8_0 -p "" -n "" >/dev/null
fi
bash scripts/setup-oracle.sh >/dev/null
dotnet build services/inference/Alpaca.Inference.Api/Alpaca.Inference.Api.csproj -c Release -nologo -clp:ErrorsOnly >/dev/null
./alpaca --help >/dev/null # builds the CLI if needed
model=$(realpath "$model")
work=$(mktemp -d)
pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap 'stop; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # $1 URL to poll with a completion
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "$1/v1/completions" -H 'content-type: application/json' -d '{"prompt":"a","max_tokens":1}' && return 0
    kill -0 "$pid" 2>/dev/null || { echo "serving.sh: the server exited" >&2; cat "$work"/*.log >&2; exit 1; }
    sleep 1
  done
  echo "serving.sh: the server did not become ready" >&2; exit 1
}
measure() { # $1 server name, $2 URL
  for template in alpaca raw; do
    echo; echo "### $1, template $template"
    ./alpaca loadtest --openai "$2" --template "$template" --distinct --concurrency "$levels" --max-tokens "$tokens" \
      --temperature 0 --duration "$duration" --min-requests "$minreq" --rounds "$rounds"
  done
}

echo "# serving benchmark $(date -u '+%Y-%m-%d %H:%M UTC'), $(basename "$model"), $threads threads each, levels $levels, $tokens tokens/request, greedy"
echo "# CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) logical CPUs; ISA: $(grep -o -w 'avx2\|fma\|avx_vnni\|avx512f\|avx512bw\|avx512_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$only" != llama ]; then
port=$(free_port) grpc=$(free_port)
(cd "$work" && Alpaca__Inference__Model="$model" Alpaca__Inference__Threads="$threads" Alpaca__Inference__MaxSequences="$slots" \
  Alpaca__Inference__ContextLength="$ctx" Alpaca__Service__HttpPort="$port" Alpaca__Service__GrpcPort="$grpc" Alpaca__Auth__Enabled=false \
  exec dotnet "$OLDPWD/services/inference/Alpaca.Inference.Api/bin/Release/net10.0/Alpaca.Inference.Api.dll") >"$work/alpaca.log" 2>&1 &
pid=$!
wait_ready "http://127.0.0.1:$port"
echo; echo "## Alpaca inference service: $threads engine threads, $slots KV slots × $ctx, fp16 paged KV (16-token blocks), prefix caching on, prefill chunk 64"
hits() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^alpaca_prefix_cache_(hits|queries)_total/ {printf "%s=%s ", $1, $2}'; }
echo "# prefix cache before: $(hits)"
measure "Alpaca" "http://127.0.0.1:$port"
echo "# prefix cache after: $(hits)"
stop
fi

if [ "$only" != alpaca ]; then
port=$(free_port)
node bench/llama-cpp/llama-serve.mjs -m "$model" --port "$port" -t "$threads" -np "$slots" -c "$ctx" -b "$batch" >"$work/llama.log" 2>&1 &
pid=$!
wait_ready "http://127.0.0.1:$port"
echo; echo "## llama.cpp (node-llama-cpp $(node -p 'require("./tools/llama-oracle/node_modules/node-llama-cpp/package.json").version'), bench/llama-cpp/llama-serve.mjs): $threads threads, $slots slots × $ctx, n_batch $batch, fp16 KV, no flash attention, slot prefix reuse"
measure "llama.cpp" "http://127.0.0.1:$port"
stop
fi
echo; echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
