#!/usr/bin/env bash
# Regenerates the golden quantizer outputs with ggml itself (not with our code):
# ggml_quantize_chunk from libggml-base.so of the npm package node-llama-cpp 3.22.1 (its prebuilt
# @node-llama-cpp/linux-x64 binaries), on 16 rows × 256 floats from gen_input.py.
# Needs node/npm, gcc and python3. Outputs: input.f32, out.{f16,bf16,q8_0,q4_0} (our quantizers must match byte for byte)
# and out.{q4_k,q5_k,q6_k,q3_k,q2_k} with ggml's decoding of them, out.*.f32 (our decoders must match);
# kdot.c (libggml-cpu-haswell): out.q8_k (ggml's Q8_K activations of the input as 4 rows of 1024) and
# out.{q4_k,q5_k,q6_k}.dot, ggml's scalar vec_dot of those weights with them (our reference kernels must match).
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
cpu="$(dirname "$lib")/libggml-cpu-haswell.so"
gcc -O0 -o kdot "$here/kdot.c" -ldl
LD_LIBRARY_PATH="$(dirname "$lib")" ./kdot "$cpu"
cp input.f32 out.* "$here/"
