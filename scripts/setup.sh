#!/usr/bin/env bash
# Installs what the tests and the local platform need on a fresh Debian 12 machine with the .NET SDK.
# Idempotent: installs only what is missing. `scripts/setup.sh --images` adds the image-build tools. Needs root or sudo for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v patchelf >/dev/null 2>&1 || missing+=(patchelf)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
# Alpaca.Reference.Tests compare with Debian's own Python and numpy, called as /usr/bin/python3 (a pyenv
# python3 earlier on PATH may lack numpy).
[ -x /usr/bin/python3 ] || missing+=(python3)
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)
# Alpaca.Platform.Tests render k8s/ with `kubectl kustomize`; Debian 12's kubectl 1.20 (kustomize v2.0.3)
# renders the manifests, which keep to its syntax. A newer kubectl already on PATH is used as it is.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
# Alpaca.Console.Tests drive Debian's chromium (/usr/bin/chromium) with Playwright; no browser is downloaded.
[ -x /usr/bin/chromium ] || missing+=(chromium)
# scripts/images.sh and scripts/images-smoke.sh (docs/deployment.md): only with --images, which
# scripts/test-images.sh (the test run's last step) passes, so that its failure to install is reported apart.
if [ "${1:-}" = "--images" ]; then
  for tool in debootstrap umoci skopeo podman runc; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The llama.cpp oracle (node-llama-cpp from npm) for the conformance tests, when the project has it.
if [ -x scripts/setup-oracle.sh ] || [ -f scripts/setup-oracle.sh ]; then
  bash scripts/setup-oracle.sh
fi
