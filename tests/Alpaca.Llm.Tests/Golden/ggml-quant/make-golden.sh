#!/usr/bin/env bash
# Regenerates the golden quantizer outputs with ggml itself (not with our code):
# ggml_quantize_chunk from libggml-base.so of the npm package node-llama-cpp 3.22.1 (its prebuilt
# @node-llama-cpp/linux-x64 binaries), on 16 rows × 256 floats from gen_input.py.
# Needs node/npm, gcc and python3. Outputs: input.f32, out.{f16,bf16,q8_0,q4_0} (our quantizers must match byte for byte)
# and out.{q4_k,q6_k} with ggml's decoding of them, out.{q4_k,q6_k}.f32 (our decoders must match).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts node-llama-cpp@3.22.1 >/dev/null
lib="$(find "$work/node_modules/@node-llama-cpp/linux-x64" -name libggml-base.so | head -1)"
python3 "$here/gen_input.py"
gcc -O0 -o oracle "$here/oracle.c" -ldl
./oracle "$lib"
cp input.f32 out.* "$here/"
