#!/usr/bin/env bash
# The GPU check, in under ten minutes on a machine with an NVIDIA GPU:
#   1. a CUDA build of the torch backend: either built here (-p:TorchSharpBackend=cuda, TorchSharp-cuda-linux
#      from nuget.org, ~6 GB), or, with --kit, the prebuilt kit of scripts/gpu-kit.sh run against the machine's
#      own CUDA libtorch (a pip PyTorch's torch/lib: no .NET SDK and no network needed there);
#   2. runs the torch-backend tests on cuda (ALPACA_TORCH_TEST_DEVICE=cuda: parity with the CPU engine,
#      greedy identity, batched vs single, the scheduler, gRPC/OpenAI serving and hot swaps);
#   3. prints the benchmark: prefill and decode tokens/s at batch 1/8/32 on the TinyLlama-1.1B shape in
#      bf16 (random weights, made here), and the 110M training step with its MFU.
#
#   scripts/gpu-check.sh [--peak-tflops N]                                  (build the CUDA variant here)
#   scripts/gpu-check.sh --kit .gpukit/alpaca-gpu-kit.tar.xz [--libtorch DIR|auto] [--peak-tflops N]
#
# --peak-tflops defaults to 989 (H100/H200 SXM dense bf16). --libtorch auto (the default with --kit) takes
# python3's torch/lib. The CUDA build replaces the restore of the projects it builds (obj/); the next CPU
# build restores back. What has run on a GPU: docs/inference-torch.md, "GPU status".
set -euo pipefail
cd "$(dirname "$0")/.."
peak=989 kit= libtorch=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --peak-tflops) peak=${2:?--peak-tflops needs a value}; shift 2 ;;
    --kit) kit=${2:?--kit needs the kit file (scripts/gpu-kit.sh)}; shift 2 ;;
    --libtorch) libtorch=${2:?--libtorch needs a folder or auto}; shift 2 ;;
    *) echo "gpu-check: unknown argument '$1' (expected --peak-tflops N, --kit FILE, --libtorch DIR|auto)" >&2; exit 2 ;;
  esac
done

export OMP_WAIT_POLICY=PASSIVE DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
start=$(date +%s)
step() { echo "== gpu-check [$(( $(date +%s) - start )) s] $*"; }

if [ -n "$kit" ]; then
  exec bash scripts/gpu-check-kit.sh "$kit" "$libtorch" "$peak"
fi

step "GPU"
command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found: no NVIDIA driver on this machine" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

step "build the CUDA variant (TorchSharp-cuda-linux from nuget.org)"
cuda=(-c Release -nologo -clp:ErrorsOnly -p:TorchSharpBackend=cuda)
dotnet build tests/Alpaca.Inference.Torch.Tests "${cuda[@]}"
dotnet build cli/Alpaca.Cli "${cuda[@]}"

step "torch-backend tests on cuda"
ALPACA_TORCH_TEST_DEVICE=cuda timeout 240 dotnet test tests/Alpaca.Inference.Torch.Tests -c Release --no-build -p:TorchSharpBackend=cuda \
  --logger "console;verbosity=normal"

step "benchmark: TinyLlama-1.1B shape, bf16, prefill 512 and decode 128 at batch 1/8/32; 110M training step"
timeout 300 dotnet cli/Alpaca.Cli/bin/Release/net10.0/alpaca.dll bench --backend torch --device cuda --dtype bf16 \
  --shape 1.1B --batch 1,8,32 -p 512 -n 128 -r 3 --train-step --peak-tflops "$peak"

step "done"
