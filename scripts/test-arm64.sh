#!/usr/bin/env bash
# The engine's kernel and forward-pass conformance tests on ARM64 (the NEON/sdot path), on any machine:
# publishes tests/Alpaca.Inference.KernelConformance self-contained for linux-arm64 and runs it under
# qemu-aarch64 user-mode emulation with Debian's arm64 libc (multiarch). On an ARM64 machine (a Raspberry
# Pi 5, Graviton, Apple silicon under Linux) it runs natively. Prints "kernel conformance: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

out=artifacts/arm64-conformance
dotnet publish tests/Alpaca.Inference.KernelConformance -c Release -r linux-arm64 --self-contained \
  -o "$out" -nologo -clp:ErrorsOnly -p:TreatWarningsAsErrors=true >/dev/null

if [ "$(uname -m)" = "aarch64" ]; then
  exec "$out/Alpaca.Inference.KernelConformance" "$@"
fi

missing=()
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
[ -e /lib/ld-linux-aarch64.so.1 ] || missing+=(libc6:arm64)
[ -e /usr/lib/aarch64-linux-gnu/libstdc++.so.6 ] || missing+=(libstdc++6:arm64 libgcc-s1:arm64)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-arm64: installing ${missing[*]} (Debian packages, arm64 multiarch)"
  dpkg --print-foreign-architectures | grep -qx arm64 || as_root dpkg --add-architecture arm64
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# .NET's JIT maps code pages writable then executable; qemu-user copes better without W^X double mapping.
export DOTNET_EnableWriteXorExecute=0
exec qemu-aarch64-static -L / "$out/Alpaca.Inference.KernelConformance" "$@"
