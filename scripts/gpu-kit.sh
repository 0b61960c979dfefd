#!/usr/bin/env bash
# Packs a GPU kit: everything `scripts/gpu-check.sh --kit` needs on a GPU machine that has a CUDA build of
# libtorch (a pip PyTorch's torch/lib, or an unpacked libtorch zip) but neither the .NET SDK nor nuget.org
# (so no TorchSharp-cuda-linux): the .NET runtime, vstest (taken from this SDK), and Release builds of the
# torch-backend tests and the CLI, without libtorch-cpu's native libraries (the kit links the machine's
# libtorch in their place, scripts/gpu-check.sh). TorchSharp's own libLibTorchSharp.so stays: it is the same
# file in the CPU and CUDA packages, and finds libtorch_cuda.so when CUDA is asked for.
#
#   scripts/gpu-kit.sh [OUT_DIR]        (default .gpukit, git-ignored; writes OUT_DIR/alpaca-gpu-kit.tar.xz)
#
# TorchSharp 0.107.0 is built against libtorch 2.10; another libtorch minor version may lack symbols it
# calls (gpu-check.sh reports how many of its undefined symbols the machine's libtorch lacks, then runs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.gpukit}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build tests/Alpaca.Inference.Torch.Tests -c Release -nologo -clp:ErrorsOnly
dotnet build cli/Alpaca.Cli -c Release -nologo -clp:ErrorsOnly

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
sdk_dir=$dotnet_root/sdk/$(dotnet --version)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
kit=$stage/alpaca-gpu-kit

# The runtime: the muxer, hostfxr and the two shared frameworks the test host and the CLI run on.
mkdir -p "$kit/dotnet/shared"
cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$kit/dotnet/"
cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$kit/dotnet/shared/"

# vstest: its console, the assemblies its deps.json names, the test-host runtime configs and the extensions
# (the .NET test-host provider, the trx logger). Resource folders are left out (English messages).
mkdir -p "$kit/vstest"
cp "$sdk_dir"/vstest.console.* "$sdk_dir"/testhost*.json "$kit/vstest/"
python3 - "$sdk_dir" "$kit/vstest" <<'PY'
import json, os, shutil, sys
sdk, dest = sys.argv[1], sys.argv[2]
deps = json.load(open(os.path.join(sdk, "vstest.console.deps.json")))
for lib in next(iter(deps["targets"].values())).values():
    for asset in lib.get("runtime", {}):
        name = os.path.basename(asset)
        src = os.path.join(sdk, name) if os.path.exists(os.path.join(sdk, name)) else os.path.join(sdk, asset)
        shutil.copy2(src, os.path.join(dest, name))
PY
mkdir -p "$kit/vstest/Extensions"
cp "$sdk_dir"/Extensions/*.dll "$kit/vstest/Extensions/"
# The extensions load the SDK's own copies of these (e.g. the test-host provider's DependencyModel).
cp "$sdk_dir"/Microsoft.Extensions.*.dll "$sdk_dir"/Newtonsoft.Json.dll "$kit/vstest/"

# The two builds, without libtorch-cpu (≈ 500 MB) and without other platforms' natives.
copy_build() {
  local from=$1 to=$2
  mkdir -p "$to"
  (cd "$from" && tar --exclude='./runtimes/win*' --exclude='./runtimes/osx*' \
      --exclude='./runtimes/linux-arm*' --exclude='./runtimes/linux-musl*' \
      --exclude='./runtimes/linux-x64/native/libtorch*' --exclude='./runtimes/linux-x64/native/libc10*' \
      --exclude='./runtimes/linux-x64/native/libgomp*' --exclude='./runtimes/linux-x64/native/lib*_test.so' \
      --exclude='./runtimes/linux-x64/native/libaoti*' --exclude='./runtimes/linux-x64/native/libbackend_with_compiler.so' \
      --exclude='./runtimes/linux-x64/native/libnnapi_backend.so' --exclude='./runtimes/linux-x64/native/libshm.so' \
      --exclude='*.pdb' -cf - .) | (cd "$to" && tar -xf -)
}
copy_build tests/Alpaca.Inference.Torch.Tests/bin/Release/net10.0 "$kit/tests"
copy_build cli/Alpaca.Cli/bin/Release/net10.0 "$kit/cli"
# What the kit expects of the machine's libtorch: the libraries LibTorchSharp links and the symbols it imports.
nm -D --undefined-only "$kit/tests/runtimes/linux-x64/native/libLibTorchSharp.so" | awk '{print $2}' | sort -u > "$kit/libtorchsharp-imports.txt"
git rev-parse HEAD > "$kit/commit.txt" 2>/dev/null || echo unknown > "$kit/commit.txt"

mkdir -p "$out"
tar -C "$stage" -cf - alpaca-gpu-kit | xz -T0 -6 > "$out/alpaca-gpu-kit.tar.xz"
echo "gpu-kit: $out/alpaca-gpu-kit.tar.xz ($(du -h "$out/alpaca-gpu-kit.tar.xz" | cut -f1)), commit $(cat "$kit/commit.txt")"
