#!/usr/bin/env bash
# scripts/gpu-check.sh --kit: the GPU check from a prebuilt kit (scripts/gpu-kit.sh) against the machine's
# own CUDA libtorch. Called as: gpu-check-kit.sh KIT_FILE LIBTORCH_DIR|auto PEAK_TFLOPS
#   ALPACA_GPU_DEVICE=cpu runs the same steps on CPU (to rehearse the kit on a machine without a GPU).
set -euo pipefail
kit_file=$1 libtorch=$2 peak=$3
device=${ALPACA_GPU_DEVICE:-cuda}
start=$(date +%s)
step() { echo "== gpu-check [$(( $(date +%s) - start )) s] $*"; }

step "GPU"
if [ "$device" = cuda ]; then
  command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found: no NVIDIA driver on this machine" >&2; exit 1; }
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi

step "libtorch"
if [ "$libtorch" = auto ]; then
  libtorch=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
    { echo "gpu-check: --libtorch auto needs a python3 with torch; pass --libtorch DIR" >&2; exit 1; }
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
fi
[ -f "$libtorch/libtorch_cpu.so" ] || { echo "gpu-check: $libtorch has no libtorch_cpu.so" >&2; exit 1; }
if [ "$device" = cuda ] && [ ! -f "$libtorch/libtorch_cuda.so" ]; then
  echo "gpu-check: $libtorch has no libtorch_cuda.so (a CPU-only libtorch)" >&2; exit 1
fi
echo "libtorch: $libtorch"

step "unpack the kit"
work=${TMPDIR:-/tmp}/alpaca-gpu-kit.$$
mkdir -p "$work"
xz -dc "$kit_file" | tar -C "$work" -xf -
kit=$work/alpaca-gpu-kit
echo "kit of commit $(cat "$kit/commit.txt")"
# LibTorchSharp's imports the machine's libtorch does not define (TorchSharp 0.107.0 is built on libtorch
# 2.10): those calls would fail when first made, so a non-zero count explains a later failure.
defined=$work/defined.txt
for lib in "$libtorch"/libtorch*.so "$libtorch"/libc10*.so; do nm -D --defined-only "$lib" 2>/dev/null | awk '{print $3}'; done | sort -u > "$defined"
missing=$(grep -E '^_Z(N|NK)?[0-9]*(at|c10|torch)' "$kit/libtorchsharp-imports.txt" | comm -23 - "$defined" || true)
echo "LibTorchSharp imports from libtorch: $(grep -cE '^_Z(N|NK)?[0-9]*(at|c10|torch)' "$kit/libtorchsharp-imports.txt"), not defined here: $(grep -c . <<<"$missing" || true)"
[ -z "$missing" ] || { head -15 <<<"$missing" | sed 's/^/  missing: /'; }
# The machine's libtorch is found through LD_LIBRARY_PATH, which the loader searches before LibTorchSharp's
# RUNPATH ($ORIGIN): the libraries load from their real folder, so their own RPATHs (a pip wheel's
# ../../nvidia/*/lib) still find the CUDA libraries. Those folders are added too, for libtorch zips.
cuda_libs=$(find "$libtorch/../../nvidia" -mindepth 2 -maxdepth 2 -type d -name lib 2>/dev/null | paste -sd: || true)
export DOTNET_ROOT=$kit/dotnet PATH=$kit/dotnet:$PATH LD_LIBRARY_PATH=$libtorch${cuda_libs:+:$cuda_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_WAIT_POLICY=PASSIVE DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

ldd "$kit/tests/runtimes/linux-x64/native/libLibTorchSharp.so" | grep -E 'torch|c10|not found' | sed 's/^\s*/  ldd: /' || true

status=0
step "torch-backend tests on $device"
ALPACA_TORCH_TEST_DEVICE=$device timeout 240 dotnet "$kit/vstest/vstest.console.dll" "$kit/tests/Alpaca.Inference.Torch.Tests.dll" \
  --logger:"console;verbosity=normal" || status=$?

step "benchmark: TinyLlama-1.1B shape, bf16, prefill 512 and decode 128 at batch 1/8/32; 110M training step"
(cd "$work" && timeout 300 dotnet "$kit/cli/alpaca.dll" bench --backend torch --device "$device" --dtype "${ALPACA_GPU_DTYPE:-bf16}" \
  --shape "${ALPACA_GPU_SHAPE:-1.1B}" --batch "${ALPACA_GPU_BATCH:-1,8,32}" -p "${ALPACA_GPU_PROMPT:-512}" -n "${ALPACA_GPU_GEN:-128}" -r 3 \
  --train-step --peak-tflops "$peak") || status=$?

step "done (status $status)"
rm -rf "$work"
exit $status
